/**
 * Timed waits that one call can end at once, for a peer's `close()`. Not one AbortSignal passed to
 * every `timers/promises` wait: each wait adds a listener to it, and 20 streams at once pass Node's
 * limit of 10 (`MaxListenersExceededWarning`), although each is removed when its wait ends.
 */
export function cancellableWaits(closedMessage: string) {
  const pending = new Set<() => void>();
  let closed = false;
  return {
    /** Resolves after `ms`; rejects at once if (or when) the waits are ended. */
    sleep(ms: number): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (closed) return reject(new Error(closedMessage));
        const cancel = () => {
          clearTimeout(timer);
          reject(new Error(closedMessage));
        };
        const timer = setTimeout(() => {
          pending.delete(cancel);
          resolve();
        }, ms);
        pending.add(cancel);
      });
    },
    /** Ends every wait in progress and any later one. */
    endAll(): void {
      closed = true;
      for (const cancel of pending) cancel();
      pending.clear();
    },
  };
}
