import { setTimeout as sleepFor } from 'node:timers/promises';
import { SlackCallError } from '../errors';
import { feedbackBlock } from '../slack/feedback-block';
import { neutraliseMentions } from '../slack/mentions';
import { splitMessage } from '../slack/message-split';
import { toMrkdwn } from '../slack/mrkdwn';
import { MIN_CALL_MS } from '../slack/web-api-call';
import type { AnswerReply, ReplyAdapterOptions, StepUpdate } from './answer-reply';
import { MAX_BUDGET_WAIT_MS, writeToSlack } from './budgeted-write';
import { findOwnMessages } from './own-messages';
import { PacedWriter } from './paced-writer';
import { stepLine } from './step-render';
import { BudgetWaitError } from './write-budget';

/** Shown after the text while the answer is still being written; never in the final text. */
export const TYPING_MARKER = ' …';

/**
 * Slack truncates `text` past 40,000 characters and advises staying under 4,000 for best results
 * (https://docs.slack.dev/reference/methods/chat.postMessage#truncating), so long answers continue
 * in further messages; below 4,000 to leave room for a status suffix.
 */
export const SLACK_MESSAGE_CHARS = 3_800;

/** Options of an {@link EditReply}. */
export interface EditReplyOptions extends ReplyAdapterOptions {
  /** Characters per Slack message before the answer continues in a new one. */
  maxChars?: number;
  /** Messages an earlier attempt already posted for this answer: they are edited, not re-posted. */
  messageTs?: readonly string[];
  /** Of those, the ones that may still be streaming (a native stream not known to be stopped). */
  streaming?: readonly string[];
  /** Shown by {@link EditReply.open} before the first text; absent: nothing is shown before it. */
  placeholder?: string | undefined;
  /**
   * Show nothing until the answer is complete, then post it: one write per answer, where the
   * workspace's edits are needed for other answers' ends (a busy workspace; the status shows meanwhile).
   */
  quiet?: boolean;
}

/** `chat.update` errors meaning the message cannot be edited any more. */
const GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);
/** Section block text limit (https://docs.slack.dev/reference/block-kit/blocks/section-block). */
const SECTION_CHARS = 3_000;

type Content = { text: string; blocks?: unknown[] };

/**
 * The edit path of {@link AnswerReply}: a placeholder first (when asked for), then at most one
 * `chat.update` per `intervalMs` with whatever arrived meanwhile, and at the end the complete answer
 * in Slack's mrkdwn with the feedback buttons. Steps show as a line each above the text; a long text
 * continues in further messages of the thread.
 *
 * Every post is tagged with the event and its chunk index: before a chunk whose post lost its answer
 * (timeout, dropped connection, 5xx) is posted again, the thread is searched for it.
 */
export class EditReply implements AnswerReply {
  readonly path = 'edit' as const;
  readonly #o: EditReplyOptions & { maxChars: number };
  readonly #ts: string[];
  /** Messages that may still be streaming: stopped before they are edited. */
  readonly #streaming: Set<string>;
  /** What each message currently shows, so unchanged messages are not edited again. */
  readonly #shown: string[] = [];
  /** Chunks whose post may have been made although its answer was lost. */
  readonly #uncertain = new Set<number>();
  readonly #steps = new Map<string, StepUpdate>();
  readonly #writer: PacedWriter;
  #latest: string | undefined;
  /** A streaming write has shown text (until then: the placeholder, or nothing). */
  #textShown = false;
  writes = 0;
  /** The edit path has no Stop control: never aborted. */
  readonly stopped = new AbortController().signal;

  constructor(options: EditReplyOptions) {
    this.#o = { maxChars: SLACK_MESSAGE_CHARS, ...options };
    this.#ts = [...(options.messageTs ?? [])];
    this.#streaming = new Set(options.streaming ?? []);
    this.#writer = new PacedWriter({
      intervalMs: options.intervalMs,
      write: () => this.#writeLatest(),
      logger: options.logger,
    });
  }

  get messageTs(): readonly string[] {
    return this.#ts;
  }

  /** Posts the placeholder, or on a redelivery resets the reply already posted to it. */
  async open(): Promise<void> {
    if (this.#o.placeholder !== undefined) await this.#write([{ text: this.#o.placeholder }], true);
  }

  show(markdown: string): void {
    this.#latest = markdown;
    if (!this.#o.quiet) this.#writer.request();
  }

  step(update: StepUpdate): void {
    this.#steps.set(update.id, update);
    if (!this.#o.quiet) this.#writer.request();
  }

  async finish(markdown: string, options: { notice?: string; feedback?: boolean } = {}): Promise<void> {
    await this.#writer.close();
    // Keep to one edit per interval to the end, and to Slack's Retry-After: the final edit waits its
    // turn, but no longer than a final write may wait (then the record comes back when it is due).
    const waitMs = this.#writer.turnMs();
    if (
      waitMs > (this.#o.maxBudgetWaitMs ?? MAX_BUDGET_WAIT_MS) ||
      waitMs > this.#o.timeLeftMs() - MIN_CALL_MS
    ) {
      throw new BudgetWaitError('chat.update', waitMs);
    }
    if (waitMs > 0) await (this.#o.sleep ?? sleepFor)(waitMs);
    const body = render(markdown);
    const { notice } = options;
    // Slack rejects an empty message (`no_text`); callers pass a notice when there is no text.
    const text = (notice ? (body ? `${body}\n\n${notice}` : notice) : body) || '…';
    const steps = this.#stepsText();
    const chunks = this.#chunks(steps ? `${steps}\n\n${text}` : text);
    // With blocks Slack shows them instead of `text`: the steps as a context block, the text as sections.
    if (steps && chunks[0]!.text.startsWith(steps)) {
      const rest = chunks[0]!.text.slice(steps.length).trim();
      chunks[0]!.blocks = [stepsBlock(steps), ...sections(rest)];
    }
    if (options.feedback) {
      const last = chunks.at(-1)!;
      last.blocks = [...(last.blocks ?? sections(last.text)), feedbackBlock()];
    }
    await this.#write(chunks, true);
  }

  async abandon(): Promise<void> {
    await this.#writer.close();
  }

  /** `text` in messages of at most `maxChars`. */
  #chunks(text: string): Content[] {
    return splitMessage(text, this.#o.maxChars).map((t) => ({ text: t }));
  }

  #stepsText(): string {
    return [...this.#steps.values()].map(stepLine).join('\n');
  }

  /** One paced streaming write: the answer so far, with a typing marker. */
  async #writeLatest(): Promise<void> {
    const steps = this.#stepsText();
    const answer = this.#latest === undefined ? '' : `${render(this.#latest)}${TYPING_MARKER}`;
    const text = [steps, answer].filter((t) => t !== '').join('\n\n');
    if (text === '') return;
    await this.#write(this.#chunks(text), false);
    this.#textShown = true;
  }

  /** Makes the reply's messages show `chunks`: edit what changed, post what is new. */
  async #write(chunks: Content[], final: boolean): Promise<void> {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const key = JSON.stringify(chunk);
      if (i < this.#ts.length) {
        if (this.#shown[i] === key) continue;
        try {
          await this.#update(i, chunk, final);
        } catch (error) {
          if (!(error instanceof SlackCallError) || !GONE.has(error.slackError ?? '')) throw error;
          // Someone deleted our message, or it can no longer be edited: post its text anew.
          this.#o.logger.warn('reply message gone; posting it again', { slackError: error.slackError });
          const old = this.#ts[i]!;
          this.#streaming.delete(old);
          this.#ts[i] = await this.#post(i, chunk, final);
          await this.#recorded();
          // One that still exists (its edit window closed) would stand beside the new one: it goes.
          if (error.slackError !== 'message_not_found') await this.#remove(old);
        }
      } else {
        this.#ts.push(await this.#post(i, chunk, final));
        await this.#recorded();
      }
      this.#shown[i] = key;
      this.writes++;
    }
    if (final && this.#ts.length > chunks.length) {
      // Only this event's own messages are ever in the reply (see own-messages.ts): extra copies go.
      const extra = this.#ts.splice(chunks.length);
      this.#shown.splice(chunks.length);
      for (const ts of extra) {
        await this.#remove(ts);
        this.#streaming.delete(ts);
      }
      await this.#recorded();
    }
  }

  /** Deletes one of the reply's messages; one already gone is what we wanted. */
  async #remove(ts: string): Promise<void> {
    const { slack, channel } = this.#o;
    await this.#retrying(true, false, 'chat.delete', () => slack.remove(channel, ts)).catch((error) => {
      if (!(error instanceof SlackCallError) || !GONE.has(error.slackError ?? '')) throw error;
    });
  }

  /**
   * Edits message `i`. A message still streaming (a stream an earlier attempt left open, or whose
   * stop failed) answers `streaming_state_conflict`: it is stopped and edited once more. If it still
   * streams, the failure is retryable: the redelivery stops it again and rewrites it.
   */
  async #update(i: number, chunk: Content, final: boolean): Promise<void> {
    const { slack, channel } = this.#o;
    const ts = this.#ts[i]!;
    const edit = () =>
      this.#retrying(final, false, 'chat.update', () =>
        slack.update({ channel, ts, ...chunk, tag: this.#tag(i) }),
      );
    try {
      if (this.#streaming.has(ts)) await this.#stopStream(ts);
      await edit();
    } catch (error) {
      if (!(error instanceof SlackCallError) || error.slackError !== 'streaming_state_conflict') throw error;
      this.#streaming.add(ts);
      await this.#stopStream(ts).catch(() => undefined);
      await edit().catch((again) => {
        if (!(again instanceof SlackCallError) || again.slackError !== 'streaming_state_conflict')
          throw again;
        throw new SlackCallError(
          'chat.update',
          { slackError: again.slackError, retryable: true },
          { cause: again },
        );
      });
    }
    if (this.#streaming.delete(ts)) await this.#recorded();
  }

  /** Stops a stream an earlier write left open; one already stopped is what we wanted. */
  async #stopStream(ts: string): Promise<void> {
    try {
      await this.#retrying(true, false, 'chat.stopStream', () =>
        this.#o.slack.stopStream({ channel: this.#o.channel, ts, tag: this.#tag(this.#ts.indexOf(ts)) }),
      );
    } catch (error) {
      const code = error instanceof SlackCallError ? error.slackError : undefined;
      if (code !== 'message_not_in_streaming_state' && code !== 'stopped_by_user') throw error;
    }
    this.#streaming.delete(ts);
    await this.#recorded();
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
    const found = await findOwnMessages(this.#o);
    const ts = found.find((m) => m.tag?.chunk === i)?.ts;
    if (ts) this.#o.logger.info('found a lost post in the thread; reusing it', { chunk: i });
    return ts;
  }

  #tag(chunk: number) {
    return { eventId: this.#o.eventId, chunk };
  }

  async #recorded(): Promise<void> {
    await this.#o.onMessages?.({ path: 'edit', messageTs: [...this.#ts], streaming: [...this.#streaming] });
  }

  /**
   * One write within the time left and the workspace's budget. Final writes wait out rate limits
   * and retry transient failures; streaming edits do not. A post is retried only after a 429, which
   * proves it was not made: after a timeout or a 5xx it may have been (see {@link EditReply.#post}).
   */
  #retrying<T>(final: boolean, isPost: boolean, method: string, fn: () => Promise<T>): Promise<T> {
    return writeToSlack(this.#o, method, fn, {
      final,
      // The first text (replacing the placeholder, or the first post) is admitted like a final
      // write: "first text at once", as a stream's start is; the edits after it take the streaming share.
      priority: final || !this.#textShown ? 'final' : 'streaming',
      ...(isPost ? { safeToRetry: (error) => error.retryAfterSeconds !== undefined } : {}),
    });
  }
}

/**
 * The steps as a context block: one line per step
 * (https://docs.slack.dev/reference/block-kit/blocks/context-block).
 */
function stepsBlock(steps: string): unknown {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: steps.slice(0, SECTION_CHARS) }] };
}

/** Text as section blocks of at most 3,000 characters each. */
function sections(text: string): unknown[] {
  if (text === '') return [];
  return splitMessage(text, SECTION_CHARS).map((t) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: t },
  }));
}

/**
 * Model Markdown as Slack mrkdwn that notifies nobody. Neutralised before the conversion (which
 * escapes a mention's `>` when it has a label) and after it (in case the conversion forms one).
 */
function render(markdown: string): string {
  return neutraliseMentions(toMrkdwn(neutraliseMentions(markdown)));
}
