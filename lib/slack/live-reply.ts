import type { Logger } from '@aws-lambda-powertools/logger';
import { SlackCallError } from '../errors';
import { SLACK_MESSAGE_CHARS, splitMrkdwn, toMrkdwn } from './mrkdwn';
import type { ReplySurface } from './reply-surface';

/** Shown after the text while the answer is still being written; never in the final text. */
export const TYPING_MARKER = ' …';

/** Options of a live reply. */
export interface LiveReplyOptions {
  surface: ReplySurface;
  channel: string;
  threadTs: string;
  /** Messages an earlier attempt already posted for this answer: they are edited, not re-posted. */
  messageTs?: string[];
  /** Minimum gap between two streaming edits of the reply (Slack's chat.update is Tier 3). */
  intervalMs: number;
  /** Characters per Slack message before the answer continues in a new one. */
  maxChars?: number;
  /** Called whenever the set of messages changes, so a redelivery can resume them. */
  onMessages?: (messageTs: string[]) => Promise<void>;
  logger: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

type ResolvedOptions = Required<Omit<LiveReplyOptions, 'onMessages' | 'messageTs'>> &
  Pick<LiveReplyOptions, 'onMessages'>;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const FINAL_WRITE_ATTEMPTS = 4;
/** `chat.update` errors meaning the message cannot be edited any more. */
const GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

/**
 * An answer shown in Slack while it is written: a placeholder first, the first text as soon as it
 * exists, then at most one edit per `intervalMs`, coalescing whatever arrived meanwhile, and at the
 * end the complete answer. Text longer than one Slack message continues in further messages of
 * the thread. A Slack 429 pauses streaming edits for its `Retry-After`; the final write waits it out.
 */
export class LiveReply {
  readonly #o: ResolvedOptions;
  readonly #ts: string[];
  /** What each message currently shows, so unchanged messages are not edited again. */
  readonly #shown: string[] = [];
  #pending: string | undefined;
  #lastFlushAt: number | undefined;
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | undefined;
  #closed = false;
  /** Count of streaming edits and posts made; for logs and benchmarks. */
  writes = 0;

  constructor(options: LiveReplyOptions) {
    this.#o = {
      maxChars: SLACK_MESSAGE_CHARS,
      now: Date.now,
      sleep: defaultSleep,
      ...options,
    };
    this.#ts = [...(options.messageTs ?? [])];
  }

  /** The `ts` of every message of this reply, first one first. */
  get messageTs(): readonly string[] {
    return this.#ts;
  }

  /** Posts the placeholder, or on a redelivery resets the reply already posted to it. */
  async open(placeholder: string): Promise<void> {
    await this.#write([placeholder], true);
  }

  /** Shows `markdown` (the answer so far) soon, without waiting for Slack. */
  show(markdown: string): void {
    if (this.#closed) return;
    this.#pending = markdown;
    this.#schedule();
  }

  /**
   * Shows the final text: the complete answer, or a partial one with a notice. Waits for Slack.
   * Messages left over from a longer earlier attempt are deleted.
   * @throws {SlackCallError} when Slack keeps failing.
   */
  async finish(markdown: string, notice?: string): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inflight;
    // Keep to one edit per interval to the end: the final edit waits for its turn (≤ intervalMs).
    if (this.#lastFlushAt !== undefined) {
      const waitMs = Math.max(this.#lastFlushAt + this.#o.intervalMs, this.#pausedUntil) - this.#o.now();
      if (waitMs > 0) await this.#o.sleep(waitMs);
    }
    const body = toMrkdwn(markdown);
    const text = notice ? (body ? `${body}\n\n${notice}` : notice) : body;
    // Slack rejects an empty message (`no_text`); callers pass a notice when there is no text.
    await this.#write(splitMrkdwn(text || '…', this.#o.maxChars), true);
  }

  #schedule(): void {
    if (this.#timer || this.#inflight || this.#pending === undefined) return;
    const now = this.#o.now();
    const readyAt = Math.max(
      this.#lastFlushAt === undefined ? now : this.#lastFlushAt + this.#o.intervalMs,
      this.#pausedUntil,
    );
    if (readyAt <= now) {
      this.#flush();
    } else {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, readyAt - now);
    }
  }

  #flush(): void {
    if (this.#closed || this.#pending === undefined) return;
    const markdown = this.#pending;
    this.#pending = undefined;
    this.#lastFlushAt = this.#o.now();
    const chunks = splitMrkdwn(`${toMrkdwn(markdown)}${TYPING_MARKER}`, this.#o.maxChars);
    this.#inflight = this.#write(chunks, false)
      .catch((error) => {
        if (error instanceof SlackCallError && error.retryAfterSeconds !== undefined) {
          this.#pausedUntil = this.#o.now() + error.retryAfterSeconds * 1000;
          this.#o.logger.warn('Slack rate limited a streaming edit; pausing edits', {
            retryAfterSeconds: error.retryAfterSeconds,
          });
        } else {
          // A streaming edit is best effort: the final write shows the whole answer anyway.
          this.#o.logger.warn('streaming edit failed', { error: error as Error });
        }
      })
      .finally(() => {
        // Space edits from when the last one was answered, not sent: Slack (and our peer) then
        // never receives two within one interval, whatever the network's jitter.
        this.#lastFlushAt = this.#o.now();
        this.#inflight = undefined;
        this.#schedule();
      });
  }

  /** Makes the reply's messages show `chunks`: edit what changed, post what is new. */
  async #write(chunks: string[], final: boolean): Promise<void> {
    const { surface, channel, threadTs } = this.#o;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (i < this.#ts.length) {
        if (this.#shown[i] === chunk) continue;
        try {
          await this.#retrying(final, false, () => surface.update(channel, this.#ts[i]!, chunk));
        } catch (error) {
          if (!(error instanceof SlackCallError) || !GONE.has(error.slackError ?? '')) throw error;
          // Someone deleted our message (or it is not ours to edit): post its text anew.
          this.#o.logger.warn('reply message gone; posting it again', { slackError: error.slackError });
          this.#ts[i] = await this.#retrying(final, true, () => surface.post(channel, threadTs, chunk));
          await this.#o.onMessages?.([...this.#ts]);
        }
      } else {
        const ts = await this.#retrying(final, true, () => surface.post(channel, threadTs, chunk));
        this.#ts.push(ts);
        await this.#o.onMessages?.([...this.#ts]);
      }
      this.#shown[i] = chunk;
      this.writes++;
    }
    if (final && this.#ts.length > chunks.length) {
      const extra = this.#ts.splice(chunks.length);
      this.#shown.splice(chunks.length);
      for (const ts of extra) await this.#retrying(true, false, () => surface.remove(channel, ts));
      await this.#o.onMessages?.([...this.#ts]);
    }
  }

  /**
   * Final writes wait out rate limits and retry transient failures; streaming edits do not.
   * A post is retried only after a 429, which proves it was not made: after a timeout or a 5xx
   * it may have been, and a second try would show the text twice.
   */
  async #retrying<T>(final: boolean, isPost: boolean, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const retry =
          final &&
          error instanceof SlackCallError &&
          error.retryable &&
          (!isPost || error.retryAfterSeconds !== undefined) &&
          attempt < FINAL_WRITE_ATTEMPTS;
        if (!retry) throw error;
        const waitMs =
          error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 250 * 2 ** attempt;
        this.#o.logger.warn('Slack call failed; retrying', { method: error.method, waitMs, attempt });
        await this.#o.sleep(waitMs);
      }
    }
  }
}
