import { randomBytes } from 'node:crypto';

/** Keys of a Slack event whose values are message timestamps. */
const TS_KEYS = new Set(['ts', 'thread_ts', 'event_ts']);

/** A Slack-style event id, e.g. `Ev0M2K7Q9XH1`. */
export function freshEventId(): string {
  const random = randomBytes(5).toString('hex').toUpperCase();
  return `Ev${Date.now().toString(36).toUpperCase().slice(-4)}${random}`;
}

/**
 * Makes saved Slack payloads fresh again, so they can be sent any number of times: a new
 * `event_id` and `event_time` on every `event_callback` (Slack's retries of one delivery keep
 * theirs: the caller re-sends the same stamped body), and optionally new message timestamps.
 *
 * With `ts: true`, every `ts`/`thread_ts`/`event_ts` inside `event` is mapped to a ts from the
 * clock, consistently across calls: a follow-up whose `thread_ts` is an earlier event's `ts` stays
 * in that event's (new) thread. A new thread each run keeps history from earlier runs out.
 */
export class EventRestamper {
  readonly #restampTs: boolean;
  readonly #ts = new Map<string, string>();
  #lastMicros = 0n;

  constructor(options: { ts: boolean }) {
    this.#restampTs = options.ts;
  }

  /** A stamped copy of `body`; url_verification and other envelopes come back unchanged. */
  stamp<T>(body: T): T {
    const copy = structuredClone(body) as Record<string, unknown>;
    if (copy?.type !== 'event_callback') return copy as T;
    copy.event_id = freshEventId();
    copy.event_time = Math.floor(Date.now() / 1000);
    if (this.#restampTs && typeof copy.event === 'object' && copy.event !== null) this.#walk(copy.event);
    return copy as T;
  }

  #walk(value: unknown): void {
    if (Array.isArray(value)) {
      for (const item of value) this.#walk(item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const object = value as Record<string, unknown>;
    for (const [key, inner] of Object.entries(object)) {
      if (TS_KEYS.has(key) && typeof inner === 'string') object[key] = this.#map(inner);
      else this.#walk(inner);
    }
  }

  #map(ts: string): string {
    let fresh = this.#ts.get(ts);
    if (fresh === undefined) {
      // Microseconds from the clock, strictly increasing: later messages sort later in a thread.
      const now = BigInt(Date.now()) * 1000n + 7n;
      this.#lastMicros = now > this.#lastMicros ? now : this.#lastMicros + 1n;
      fresh = `${this.#lastMicros / 1_000_000n}.${String(this.#lastMicros % 1_000_000n).padStart(6, '0')}`;
      this.#ts.set(ts, fresh);
    }
    return fresh;
  }
}
