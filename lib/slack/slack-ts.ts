/**
 * Slack message timestamps (`ts`, e.g. `"1700000000.000100"`: seconds and microseconds) compared
 * and converted without floating point, which would lose the last digits
 * (https://docs.slack.dev/messaging/retrieving-messages#individual_messages).
 */

/** A ts as microseconds; 0 for anything that is not one. */
export function tsMicros(ts: string): bigint {
  const [seconds = '0', fraction = ''] = ts.split('.');
  try {
    return BigInt(seconds) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0');
  } catch {
    return 0n;
  }
}

/** A ts as epoch milliseconds (when Slack made the message). */
export function tsMillis(ts: string): number {
  return Number(tsMicros(ts) / 1_000n);
}

/** Orders two ts: negative when `a` is older, 0 when equal, positive when newer. */
export function compareTs(a: string, b: string): number {
  const d = tsMicros(a) - tsMicros(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** Whether ts `a` is after ts `b` (always when `b` is absent). */
export function isAfter(a: string, b: string | undefined): boolean {
  return b === undefined || compareTs(a, b) > 0;
}
