/**
 * Spaces the streaming writes of one reply: at most one per `intervalMs`, counted from when the
 * previous one was answered (so Slack never receives two within an interval, whatever the network's
 * jitter), and none before a pause ends (Slack's `Retry-After`, the workspace's budget). Both reply
 * adapters pace their edits and appends with it.
 */
export class Pacer {
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** No streaming write before this (epoch ms). */
  pausedUntil = 0;

  constructor(intervalMs: number, now: () => number) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Whether a write is waiting for its turn. */
  get waiting(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Runs `write` as soon as its turn comes (at once when it has): after the interval since the last
   * write, after the pause, and after `notBefore` (another pause of the caller's).
   */
  schedule(write: () => void, notBefore = 0): void {
    if (this.#timer) return;
    const now = this.#now();
    const readyAt = Math.max(this.#next(now), this.pausedUntil, notBefore);
    if (readyAt <= now) {
      write();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      write();
    }, readyAt - now);
  }

  /** A write was sent, or answered: the next one is spaced from now. */
  wrote(): void {
    this.#lastAt = this.#now();
  }

  /** How long a write that must go (the final one) waits to keep to the spacing: 0 if none yet. */
  turnMs(): number {
    if (this.#lastAt === undefined) return 0;
    return Math.max(0, Math.max(this.#next(this.#now()), this.pausedUntil) - this.#now());
  }

  /** Cancels a write waiting for its turn. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #next(now: number): number {
    return this.#lastAt === undefined ? now : this.#lastAt + this.#intervalMs;
  }
}
