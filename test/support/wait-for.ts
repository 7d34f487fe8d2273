/**
 * Polls `check` every 50 ms until it returns a value other than `undefined` or `false`.
 * For outcomes that arrive asynchronously (another process, a queue poller); never a timing assertion.
 * @throws {Error} naming `what` after `timeoutMs`.
 */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
