import { SlackCallError } from '../errors';
import { feedbackBlock } from '../slack/feedback-block';
import { neutraliseMentions } from '../slack/mentions';
import { SLACK_MESSAGE_CHARS, splitMrkdwn, toMrkdwn } from '../slack/mrkdwn';
import type { AnswerReply, ReplyAdapterOptions, StepUpdate } from './answer-reply';
import { Pacer } from './pacer';
import { streamingFailure, writeToSlack } from './slack-call';
import { withinTime } from './time-left';

/** Shown after the text while the answer is still being written; never in the final text. */
export const TYPING_MARKER = ' …';

/** Options of an {@link EditReply}. */
export interface EditReplyOptions extends ReplyAdapterOptions {
  /** Messages an earlier attempt already posted for this answer: they are edited, not re-posted. */
  messageTs?: readonly string[];
  /** The message shown by {@link EditReply.open}. */
  placeholder: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** `chat.update` errors meaning the message cannot be edited any more. */
const GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);
/** Section block text limit (https://docs.slack.dev/reference/block-kit/blocks/section-block). */
const SECTION_CHARS = 3_000;

type Content = { text: string; blocks?: unknown[] };

/**
 * The edit path of {@link AnswerReply}: a placeholder first, the first text as soon as it exists,
 * then at most one `chat.update` per `intervalMs`, coalescing whatever arrived meanwhile, and at the
 * end the complete answer. Text longer than one Slack message continues in further messages of the
 * thread. A Slack 429 pauses streaming edits for its `Retry-After`; the final write waits it out
 * while the invocation has time.
 *
 * Every post is tagged with the event and its chunk index. A post whose answer was lost (timeout,
 * dropped connection, 5xx) may exist: before posting that chunk again, the thread is searched for
 * it, so a lost answer never shows a message twice.
 */
export class EditReply implements AnswerReply {
  readonly path = 'edit' as const;
  readonly #o: EditReplyOptions & {
    maxChars: number;
    now: () => number;
    sleep: (ms: number) => Promise<void>;
  };
  readonly #ts: string[];
  /** What each message currently shows, so unchanged messages are not edited again. */
  readonly #shown: string[] = [];
  /** Chunks whose post may have been made although its answer was lost. */
  readonly #uncertain = new Set<number>();
  #pending: string | undefined;
  readonly #steps = new Map<string, StepUpdate>();
  /** Slack answered 429: nothing is written before this (`Retry-After`). */
  /** The workspace's budget turned a streaming edit away: the next streaming edit waits until this. */
  #budgetUntil = 0;
  readonly #pacer: Pacer;
  #inflight: Promise<void> | undefined;
  #closed = false;
  /** Whether a streaming edit has shown text yet (until then the reply shows the placeholder). */
  #textShown = false;
  writes = 0;
  /** The edit path has no Stop control: never aborted. */
  readonly stopped = new AbortController().signal;

  constructor(options: EditReplyOptions) {
    this.#o = { maxChars: SLACK_MESSAGE_CHARS, now: Date.now, sleep: defaultSleep, ...options };
    this.#ts = [...(options.messageTs ?? [])];
    this.#pacer = new Pacer(options.intervalMs, this.#o.now);
  }

  get messageTs(): readonly string[] {
    return this.#ts;
  }

  /** Posts the placeholder, or on a redelivery resets the reply already posted to it. */
  async open(): Promise<void> {
    await this.#write([{ text: this.#o.placeholder }], true);
  }

  step(update: StepUpdate): void {
    // Shown by the reply-layer rewrite; until then steps are kept, not shown.
    this.#steps.set(update.id, update);
  }

  show(markdown: string): void {
    if (this.#closed) return;
    this.#pending = markdown;
    this.#schedule();
  }

  async finish(markdown: string, options: { notice?: string; feedback?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#pacer.cancel();
    await this.#inflight;
    // Keep to one edit per interval to the end: the final edit waits for its turn (≤ intervalMs).
    const waitMs = this.#pacer.turnMs();
    if (waitMs > 0 && waitMs < this.#o.timeLeftMs()) await this.#o.sleep(waitMs);
    const body = render(markdown);
    const { notice } = options;
    const text = notice ? (body ? `${body}\n\n${notice}` : notice) : body;
    // Slack rejects an empty message (`no_text`); callers pass a notice when there is no text.
    const chunks: Content[] = splitMrkdwn(text || '…', this.#o.maxChars).map((t) => ({ text: t }));
    if (options.feedback) {
      const last = chunks.at(-1)!;
      // With blocks, Slack shows the blocks instead of `text`: the text goes in as sections.
      last.blocks = [
        ...splitMrkdwn(last.text, SECTION_CHARS).map((t) => ({
          type: 'section',
          text: { type: 'mrkdwn', text: t },
        })),
        feedbackBlock(),
      ];
    }
    await this.#write(chunks, true);
  }

  async abandon(): Promise<void> {
    this.#closed = true;
    this.#pacer.cancel();
    await this.#inflight;
  }

  #schedule(): void {
    if (this.#closed || this.#inflight || this.#pending === undefined) return;
    this.#pacer.schedule(() => this.#flush(), this.#budgetUntil);
  }

  #flush(): void {
    if (this.#closed || this.#pending === undefined) return;
    const markdown = this.#pending;
    this.#pending = undefined;
    this.#pacer.wrote();
    const chunks = splitMrkdwn(`${render(markdown)}${TYPING_MARKER}`, this.#o.maxChars).map((text) => ({
      text,
    }));
    this.#inflight = this.#write(chunks, false)
      .then(() => {
        this.#textShown = true;
      })
      .catch((error) => {
        const failure = streamingFailure(error, this.#o.logger, this.#o.now());
        // The workspace's budget spent for streaming edits delays the next one (with all text so
        // far), not the final write: that has a larger share of the window (see admit).
        if (failure.kind === 'budget') this.#budgetUntil = failure.until;
        if (failure.kind === 'ratelimited') this.#pacer.pausedUntil = failure.until;
      })
      .finally(() => {
        // Space edits from when the last one was answered, not sent: Slack (and our peer) then
        // never receives two within one interval, whatever the network's jitter.
        this.#pacer.wrote();
        this.#inflight = undefined;
        this.#schedule();
      });
  }

  /** Makes the reply's messages show `chunks`: edit what changed, post what is new. */
  async #write(chunks: Content[], final: boolean): Promise<void> {
    const { channel } = this.#o;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const key = JSON.stringify(chunk);
      if (i < this.#ts.length) {
        if (this.#shown[i] === key) continue;
        try {
          await this.#update(i, chunk, final);
        } catch (error) {
          if (!(error instanceof SlackCallError) || !GONE.has(error.slackError ?? '')) throw error;
          // Someone deleted our message (or it is not ours to edit): post its text anew.
          this.#o.logger.warn('reply message gone; posting it again', { slackError: error.slackError });
          this.#ts[i] = await this.#post(i, chunk, final);
          await this.#recorded();
        }
      } else {
        this.#ts.push(await this.#post(i, chunk, final));
        await this.#recorded();
      }
      this.#shown[i] = key;
      this.writes++;
    }
    if (final && this.#ts.length > chunks.length) {
      const extra = this.#ts.splice(chunks.length);
      this.#shown.splice(chunks.length);
      for (const ts of extra) {
        await this.#retrying(true, false, 'chat.delete', () => this.#o.slack.remove(channel, ts)).catch(
          (error) => {
            // Already gone (a delete whose answer was lost, tried again): that is what we wanted.
            if (!(error instanceof SlackCallError) || !GONE.has(error.slackError ?? '')) throw error;
          },
        );
      }
      await this.#recorded();
    }
  }

  /**
   * Edits message `i`. A message still streaming (a stream an earlier attempt left open, or whose
   * stop was lost) answers `streaming_state_conflict`: it is stopped and edited once more.
   */
  async #update(i: number, chunk: Content, final: boolean): Promise<void> {
    const { slack, channel } = this.#o;
    const edit = () =>
      this.#retrying(final, false, 'chat.update', () =>
        slack.update({ channel, ts: this.#ts[i]!, ...chunk, tag: this.#tag(i) }),
      );
    try {
      await edit();
    } catch (error) {
      if (!(error instanceof SlackCallError) || error.slackError !== 'streaming_state_conflict') throw error;
      await withinTime('chat.stopStream', this.#o.timeLeftMs(), () =>
        slack.stopStream({ channel, ts: this.#ts[i]! }),
      ).catch(() => undefined);
      await edit();
    }
  }

  /**
   * Posts chunk `i`. If an earlier post of it may have been made, looks for it in the thread
   * first and reuses it. A post whose answer is lost is looked for at once, once.
   */
  async #post(i: number, chunk: Content, final: boolean): Promise<string> {
    const { slack, channel, threadTs } = this.#o;
    if (this.#uncertain.has(i)) {
      const found = await this.#find(i);
      this.#uncertain.delete(i);
      if (found) return found;
    }
    try {
      return await this.#retrying(final, true, 'chat.postMessage', () =>
        slack.post({ channel, threadTs, ...chunk, tag: this.#tag(i) }),
      );
    } catch (error) {
      if (!(error instanceof SlackCallError) || !error.uncertain) throw error;
      this.#o.logger.warn('a post may have been made although its answer was lost; looking for it', {
        chunk: i,
        slackError: error.slackError,
      });
      const found = await this.#find(i).catch(() => undefined);
      if (found) return found;
      // Not visible (yet): look again before the next post of this chunk.
      this.#uncertain.add(i);
      throw error;
    }
  }

  async #find(i: number): Promise<string | undefined> {
    const { slack, channel, threadTs, askedTs, eventId } = this.#o;
    const found = await withinTime('conversations.replies', this.#o.timeLeftMs(), () =>
      slack.findReplies(channel, threadTs, askedTs),
    );
    const ts = found.find((m) => m.tag?.eventId === eventId && m.tag.chunk === i)?.ts;
    if (ts) this.#o.logger.info('found a lost post in the thread; reusing it', { chunk: i });
    return ts;
  }

  #tag(chunk: number) {
    return { eventId: this.#o.eventId, chunk };
  }

  async #recorded(): Promise<void> {
    await this.#o.onMessages?.({ path: 'edit', messageTs: [...this.#ts] });
  }

  /**
   * One write within the time left and the workspace's budget. Final writes wait out rate limits
   * and retry transient failures; streaming edits do not. A post is retried only after a 429, which
   * proves it was not made: after a timeout or a 5xx it may have been (see {@link EditReply.#post}).
   */
  #retrying<T>(final: boolean, isPost: boolean, method: string, fn: () => Promise<T>): Promise<T> {
    return writeToSlack(this.#o, method, fn, {
      final,
      // The first text (replacing the placeholder) is admitted like a final write: "first text at
      // once", as a stream's start is; the edits after it take the streaming share of the budget.
      priority: final || !this.#textShown,
      ...(isPost ? { safeToRetry: (error) => error.retryAfterSeconds !== undefined } : {}),
    });
  }
}

/**
 * Model Markdown as Slack mrkdwn that notifies nobody. Neutralised before the conversion (which
 * escapes a mention's `>` when it has a label) and after it (in case the conversion forms one).
 */
function render(markdown: string): string {
  return neutraliseMentions(toMrkdwn(neutraliseMentions(markdown)));
}
