/**
 * Collects what Powertools loggers write: they print one JSON line per entry through a
 * `Console` on `process.stdout`/`process.stderr` (lib/logger.ts), so the lines are read there,
 * and not printed while captured.
 */
export function captureLogs() {
  const raw: string[] = [];
  const original = { out: process.stdout.write, err: process.stderr.write };
  const grab = (chunk: unknown) => {
    raw.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  return {
    /** Every line written so far, as text. */
    text: () =>
      raw
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    /** The JSON log entries written so far (lines that are not JSON are left out). */
    entries(): Array<Record<string, unknown>> {
      return this.text().flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    },
    restore() {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
    },
  };
}
