/**
 * How long a failed record waits before its next receive: `baseSeconds`, doubled on each receive
 * (10 s, 20 s, 40 s, … with the default RETRY_DELAY_SECONDS).
 */
export function retryDelaySeconds(baseSeconds: number, receiveCount: number): number {
  return baseSeconds * 2 ** (Math.max(1, receiveCount) - 1);
}
