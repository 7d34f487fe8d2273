import type { Logger } from '@aws-lambda-powertools/logger';
import { SlackCallError } from '../errors';
import { BudgetWaitError } from './write-budget';

/** What a {@link PacedWriter} writes, and how often. */
interface PacedWriterOptions {
  intervalMs: number;
  /** Writes what is new; may throw (the failure is judged here and paces the next write). */
  write: () => Promise<void>;
  logger: Logger;
}

/**
 * Writes a growing answer to Slack at a steady pace, for both reply adapters: each streaming write
 * shows everything new since the last one (the adapter's `write` reads the latest state when it
 * runs), at most one per `intervalMs` counted from when the previous one was answered (so Slack
 * never receives two within an interval, whatever the network's jitter), one at a time, and none
 * before a pause ends. A failed streaming write is never fatal: the final write shows the whole
 * answer anyway. Slack's 429 (`Retry-After`) pauses every write, the final one included; the
 * workspace's budget turning a write away delays only the next streaming write.
 */
export class PacedWriter {
  readonly #o: PacedWriterOptions;
  #lastAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | undefined;
  /** Something new waits to be written. */
  #dirty = false;
  #closed = false;
  /** Slack rate limited us: no write, the final one included, before this (epoch ms). */
  #rateLimitedUntil = 0;
  /** The workspace's budget turned a streaming write away: the next one waits until this. */
  #budgetUntil = 0;

  constructor(options: PacedWriterOptions) {
    this.#o = options;
  }

  /** Something new to show: it is written at its turn (at once when the turn has come). */
  request(): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#schedule();
  }

  /**
   * Ends streaming writes: cancels a write waiting for its turn and waits for the one in flight.
   * Afterwards {@link request} does nothing; the adapter makes its final write itself.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inflight;
  }

  /** How long the final write waits to keep to the spacing and Slack's `Retry-After`: 0 if none yet. */
  turnMs(): number {
    const now = Date.now();
    const next = this.#lastAt === undefined ? now : this.#lastAt + this.#o.intervalMs;
    return Math.max(0, next - now, this.#rateLimitedUntil - now);
  }

  #schedule(): void {
    if (this.#closed || this.#timer || this.#inflight || !this.#dirty) return;
    const now = Date.now();
    const next = this.#lastAt === undefined ? now : this.#lastAt + this.#o.intervalMs;
    const readyAt = Math.max(next, this.#rateLimitedUntil, this.#budgetUntil);
    if (readyAt <= now) {
      this.#flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, readyAt - now);
  }

  #flush(): void {
    if (this.#closed || !this.#dirty) return;
    this.#dirty = false;
    this.#lastAt = Date.now();
    this.#inflight = this.#o
      .write()
      .catch((error) => this.#failed(error))
      .finally(() => {
        this.#lastAt = Date.now();
        this.#inflight = undefined;
        this.#schedule();
      });
  }

  /** Judges a failed streaming write: the next one waits, nothing is lost (the text is still there). */
  #failed(error: unknown): void {
    // What was not written is still to be written.
    this.#dirty = true;
    const now = Date.now();
    if (error instanceof BudgetWaitError) {
      this.#budgetUntil = now + error.waitMs;
      return;
    }
    if (error instanceof SlackCallError && error.retryAfterSeconds !== undefined) {
      this.#rateLimitedUntil = now + error.retryAfterSeconds * 1000;
      this.#o.logger.warn('Slack rate limited a streaming write; pausing', {
        method: error.method,
        retryAfterSeconds: error.retryAfterSeconds,
      });
      return;
    }
    this.#o.logger.warn('streaming write failed', { error: error as Error });
  }
}
