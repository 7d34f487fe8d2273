import { SlackCallError } from '../errors';
import { feedbackBlock } from '../slack/feedback-block';
import type { ReplyAdapterOptions, StepUpdate } from './answer-reply';
import { writeToSlack } from './budgeted-write';
import { findOwnMessages } from './own-messages';
import type { StreamContent } from './slack-reply-api';
import { ENDED, STOPPED_BY_USER } from './stream-limits';
import { fitInMessage } from './stream-split';
import type { StreamEvent } from './stream-state';

/** One stream message of a reply. */
interface StreamMessage {
  ts: string;
  /** The Markdown it shows, as far as we know. */
  text: string;
  /** False once a write's outcome is unknown: the final write then rewrites the message. */
  exact: boolean;
  open: boolean;
  /** Its stop was sent but its answer lost: it may still stream. */
  maybeStreaming?: boolean;
}

/** What the messages need from the reply that owns them. */
export interface StreamMessagesOptions extends ReplyAdapterOptions {
  /**
   * Outside DMs: the asking user and that user's team
   * (https://docs.slack.dev/reference/methods/chat.startStream).
   */
  recipient?: { userId: string; teamId: string } | undefined;
  /**
   * Auto mode: how long a stream's start may wait for the workspace's budget before the reply takes
   * the edit path instead; absent (native only): a streaming start never waits, it tries again later.
   */
  startWaitMs?: number | undefined;
  /** Whether the reply still streams (not moved, stopped or refused): writing ends when it does not. */
  streaming: () => boolean;
  /** Something happened to the reply (the user's Stop, a lost start found). */
  onEvent: (event: StreamEvent<never>) => void;
  /** A `chat.startStream` failed: true when the reply moved or refused; false to rethrow. */
  onStartFailed: (error: SlackCallError, firstMessage: boolean) => Promise<boolean>;
}

/**
 * The stream messages of one native reply and how text and task cards get into them: appended to
 * the open message, continued in a new stream message when it is full (cut where a message may
 * end: stream-split.ts) or when Slack ended it, each stopped and tagged as this event's, the last
 * with the feedback buttons. Knows what each message shows and whether that is certain.
 */
export class StreamMessages {
  readonly #o: StreamMessagesOptions;
  readonly #msgs: StreamMessage[] = [];
  /** The part of the (neutralised) answer that the messages hold. */
  #shown = '';
  /** What the next message starts with before the rest of the answer (a reopened code block). */
  #nextPrefix = '';
  /** What each task card last showed, so only changed cards are sent. */
  readonly #sentCards = new Map<string, string>();
  writes = 0;

  constructor(options: StreamMessagesOptions) {
    this.#o = options;
  }

  get ts(): string[] {
    return this.#msgs.map((m) => m.ts);
  }

  /** Whether every message is known to show exactly what was sent. */
  get exact(): boolean {
    return this.#msgs.every((m) => m.exact);
  }

  /** The messages that may still be streaming. */
  streaming(): string[] {
    return this.#msgs.filter((m) => m.open || m.maybeStreaming).map((m) => m.ts);
  }

  /** The text of `body` after what the messages hold; undefined when `body` no longer starts with it. */
  after(body: string): string | undefined {
    return body.startsWith(this.#shown) ? body.slice(this.#shown.length) : undefined;
  }

  /** The cards that changed since they were last written. */
  changed(cards: StepUpdate[]): StepUpdate[] {
    return cards.filter((t) => this.#sentCards.get(t.id) !== JSON.stringify(t));
  }

  /**
   * Writes `cards` and then `text` after what the reply shows.
   * @returns false when the reply stopped streaming (moved, stopped, refused, or its start was lost).
   */
  async deliver(cards: StepUpdate[], text: string, final: boolean): Promise<boolean> {
    let rest = text;
    let tasks = cards;
    while (rest !== '' || tasks.length > 0) {
      if (!this.#o.streaming()) return false;
      const current = this.#msgs.at(-1);
      const fit = fitInMessage(current?.open ? current.text : this.#nextPrefix, rest, final);
      if (fit.piece === '' && tasks.length === 0 && !fit.full) return true; // held back for now
      const content = { markdown: current?.open ? fit.piece : `${this.#nextPrefix}${fit.piece}`, tasks };
      if (!current?.open) {
        if (!(await this.#start(content, final))) return false;
        this.#nextPrefix = '';
      } else if ((fit.piece !== '' || tasks.length > 0) && !(await this.#append(current, content, final))) {
        if (!this.#o.streaming() || current.open) return false;
        continue; // Slack ended the message: the same text goes into a new one.
      }
      tasks = [];
      this.#shown += rest.slice(0, fit.consumed);
      rest = rest.slice(fit.consumed);
      if (fit.full && rest !== '') {
        this.#nextPrefix = fit.nextPrefix;
        await this.#closeFull(this.#msgs.at(-1)!);
      } else if (!fit.full && rest !== '') return true; // the rest waits for a place to end
    }
    return true;
  }

  /**
   * Writes the rest of the answer and stops the last message with the feedback buttons.
   * @returns whether every message is known to show exactly what was sent.
   */
  async finish(tail: string, cards: StepUpdate[], feedback: boolean): Promise<boolean> {
    const blocks = feedback ? [feedbackBlock()] : undefined;
    let body = tail || (this.#msgs.length === 0 ? '…' : '');
    let tasks = cards;
    // Three rounds at most: a stream that expires just before its stop is continued once more.
    for (let round = 0; round < 3; round++) {
      const current = this.#msgs.at(-1);
      // A short ending goes with the stop itself, so it costs one call.
      if (!current?.open || fitInMessage(current.text, body, true).full) {
        if (body === '' && tasks.length === 0) {
          this.#o.logger.warn('the stream ended before its feedback buttons could be added');
          return this.exact;
        }
        try {
          if (!(await this.deliver(tasks, body, true))) return false;
        } catch (error) {
          if (error instanceof SlackCallError && error.uncertain) return false;
          throw error;
        }
        body = '';
        tasks = [];
      }
      const last = this.#msgs.at(-1)!;
      try {
        await this.#close(last, { content: { markdown: body, tasks }, ...(blocks ? { blocks } : {}) });
        this.#shown += body;
        return this.exact;
      } catch (error) {
        if (!(error instanceof SlackCallError)) throw error;
        // Stop pressed after the last append: the answer ends as the user stopped it.
        if (error.slackError === STOPPED_BY_USER) return !this.#userStopped(last);
        if (error.uncertain) {
          last.exact = false;
          return false;
        }
        if (!ENDED.has(error.slackError ?? '')) throw error;
        // Expired before it was stopped: it keeps what it shows; the ending goes in a new message.
        last.open = false;
      }
    }
    return false;
  }

  /**
   * Stops every message that is or may be streaming, before the edit path rewrites them. Best
   * effort: a message whose stop fails stays in {@link streaming} for the edit path to stop.
   */
  async stopAll(): Promise<void> {
    for (const m of this.#msgs.filter((x) => x.open || x.maybeStreaming)) {
      await this.#close(m).catch((error) => {
        if (!(error instanceof SlackCallError)) throw error;
        if (error.slackError === STOPPED_BY_USER) this.#userStopped(m);
        else if (ENDED.has(error.slackError ?? '')) m.open = m.maybeStreaming = false;
        else
          this.#o.logger.warn('could not stop a stream before rewriting it', {
            slackError: error.slackError,
          });
      });
    }
  }

  /**
   * Adopts the streams this reply started although their answers were lost: untagged bot messages
   * of the thread that are this event's own (created since its record was first received; see
   * own-messages.ts), never an earlier question's. With `content`, the newest becomes the open message.
   * @returns whether one was found.
   * @throws {SlackCallError} when the thread could not be searched: whether a stream exists is unknown.
   */
  async adoptLostStart(content?: StreamContent): Promise<boolean> {
    const found = await findOwnMessages(this.#o);
    const known = new Set(this.ts);
    const orphans = found.filter((m) => !m.tag && !known.has(m.ts));
    if (orphans.length === 0) return false;
    for (const m of orphans)
      this.#msgs.push({ ts: m.ts, text: content?.markdown ?? '', exact: false, open: true });
    this.#sent(content?.tasks);
    this.#o.onEvent({ type: 'start_found' });
    await this.#recorded();
    return true;
  }

  #sent(tasks: StreamContent['tasks']): void {
    for (const t of tasks ?? []) this.#sentCards.set(t.id, JSON.stringify(t));
  }

  /** Appends to an open message. @returns false when Slack ended it or the user stopped it. */
  async #append(message: StreamMessage, content: StreamContent, final: boolean): Promise<boolean> {
    const { slack, channel, logger } = this.#o;
    try {
      await this.#call(final, 'chat.appendStream', () => slack.appendStream(channel, message.ts, content));
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      if (error.slackError === STOPPED_BY_USER) return this.#userStopped(message);
      if (ENDED.has(error.slackError ?? '')) {
        // Expired or full: the message keeps what it had; the text continues in a new one.
        logger.warn('stream message ended by Slack; continuing in a new message', {
          slackError: error.slackError,
        });
        // A full one is still streaming: stop it, best effort, so nothing stays "streaming".
        if (error.slackError === 'msg_too_long') {
          await this.#closeFull(message).catch(() => {
            // Not stopped (yet): the final write stops it before it rewrites it.
            message.exact = false;
            message.maybeStreaming = true;
          });
        }
        message.open = false;
        await this.#recorded();
        return false;
      }
      if (error.uncertain) {
        // Maybe applied: count it as shown; the final write rewrites this message exactly.
        message.text += content.markdown ?? '';
        message.exact = false;
        this.#sent(content.tasks);
      }
      throw error;
    }
    message.text += content.markdown ?? '';
    this.#sent(content.tasks);
    this.writes++;
    return true;
  }

  /** Starts a stream message; a refusal is the reply's to decide on. */
  async #start(content: StreamContent, final: boolean): Promise<boolean> {
    const { slack, channel, threadTs, recipient, startWaitMs } = this.#o;
    // A round of several calls shows its cards together, as a plan.
    const plan = (content.tasks?.length ?? 0) > 1;
    try {
      const ts = await this.#call(
        final || startWaitMs !== undefined,
        'chat.startStream',
        () => slack.startStream({ channel, threadTs, content, plan, ...(recipient ? { recipient } : {}) }),
        final ? undefined : startWaitMs,
      );
      this.#msgs.push({ ts, text: content.markdown ?? '', exact: true, open: true });
      this.#sent(content.tasks);
      this.writes++;
      await this.#recorded();
      return true;
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      if (error.uncertain) {
        // The stream may exist, untagged until it is stopped: find it, or let the final write repair.
        // (A failed search is not "none": the final write searches again, and says so if it fails.)
        if (await this.adoptLostStart(content).catch(() => false)) return true;
        this.#o.onEvent({ type: 'uncertain', why: 'lost_start' });
        return false;
      }
      if (await this.#o.onStartFailed(error, this.#msgs.length === 0)) return false;
      throw error;
    }
  }

  /** Stops a stream message, tagging it as this event's. */
  async #close(
    message: StreamMessage,
    extra?: { content?: StreamContent; blocks?: unknown[] },
  ): Promise<void> {
    const chunk = this.#msgs.indexOf(message);
    await this.#call(true, 'chat.stopStream', () =>
      this.#o.slack.stopStream({
        channel: this.#o.channel,
        ts: message.ts,
        ...extra,
        tag: { eventId: this.#o.eventId, chunk },
      }),
    );
    message.open = false;
    message.maybeStreaming = false;
    message.text += extra?.content?.markdown ?? '';
    this.#sent(extra?.content?.tasks);
    this.writes++;
    await this.#recorded();
  }

  /**
   * Stops a full message; Slack having ended it already does not stop the answer, and neither does
   * a stop whose answer was lost: the text goes on in a new message, and the final write rewrites
   * this one (stopping it first, should it still stream).
   */
  async #closeFull(message: StreamMessage): Promise<void> {
    try {
      await this.#close(message);
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      if (error.slackError === STOPPED_BY_USER) {
        this.#userStopped(message);
        return;
      }
      if (error.uncertain) {
        message.exact = false;
        message.maybeStreaming = true;
      } else if (!ENDED.has(error.slackError ?? '')) throw error;
      message.open = false;
      await this.#recorded();
    }
  }

  #userStopped(message: StreamMessage): false {
    message.open = false;
    this.#o.onEvent({ type: 'user_stopped' });
    this.#o.logger.info('the user stopped the streamed answer', { chars: message.text.length });
    return false;
  }

  async #recorded(): Promise<void> {
    await this.#o.onMessages?.({ path: 'native', messageTs: this.ts, streaming: this.streaming() });
  }

  /**
   * One write within the time left and the workspace's budget (a stream's start goes with the
   * priority of a final write: it shows the first text). A write whose outcome is unknown is never
   * repeated (an append would show twice): the final write repairs it instead.
   */
  #call<T>(final: boolean, method: string, fn: () => Promise<T>, maxWaitMs?: number): Promise<T> {
    return writeToSlack(this.#o, method, fn, {
      final,
      priority: final || method === 'chat.startStream' ? 'final' : 'streaming',
      safeToRetry: (error) => !error.uncertain,
      marginMs: 1_000,
      maxWaitMs,
    });
  }
}
