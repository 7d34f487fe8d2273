import { SlackCallError } from '../errors';
import { feedbackBlock } from '../slack/feedback-block';
import { neutraliseMentions, stablePrefix } from '../slack/mentions';
import type { AnswerReply, ReplyAdapterOptions, StepUpdate } from './answer-reply';
import type { EditReply } from './edit-reply';
import { Pacer } from './pacer';
import { streamingFailure, writeToSlack } from './slack-call';
import {
  cut,
  ENDED,
  HERE_UNAVAILABLE,
  STOPPED_BY_USER,
  STREAM_MESSAGE_CHARS,
  WORKSPACE_UNAVAILABLE,
} from './stream-limits';
import { withinTime } from './time-left';

/** Options of a {@link StreamReply}; `intervalMs` spaces appends (`chat.appendStream` is Tier 4). */
export interface StreamReplyOptions extends ReplyAdapterOptions {
  /** Outside DMs: the asking user and that user's team (https://docs.slack.dev/reference/methods/chat.startStream). */
  recipient?: { userId: string; teamId: string } | undefined;
  /** Shown under the thread until the first text (`assistant.threads.setStatus`). */
  status?: { text: string; loadingMessages: string[] } | undefined;
  /**
   * Builds the edit-path reply this answer continues on when the stream cannot be used (auto mode);
   * also used to repair the messages when what was streamed is uncertain. Absent: native only.
   */
  fallback?: ((messageTs: readonly string[]) => EditReply) | undefined;
  /** Streaming refused for the whole workspace; `auto` remembers it. Best effort. */
  onUnavailable?: (slackError: string) => Promise<void>;
  /** Posts the note shown when native-only streaming is refused. */
  refusedNote: string;
}

interface StreamMessage {
  ts: string;
  /** The Markdown sent to it, as far as we know. */
  text: string;
  /** False once a write's outcome is unknown: the final write then rewrites the message. */
  exact: boolean;
  open: boolean;
}

/**
 * The native path of {@link AnswerReply}: Slack's AI streaming (https://docs.slack.dev/ai/developing-ai-apps#streaming).
 * A loading status first, the first text in `chat.startStream` as soon as it exists, then appends of
 * what is new at most once per `intervalMs`, and `chat.stopStream` with the feedback buttons at the
 * end. A message full or ended by Slack (expired stream) is continued in a new stream message of
 * the thread. Stop (`stopped_by_user`) aborts {@link stopped} and ends all writing.
 *
 * When streaming is refused as unavailable before anything was shown, the same answer continues on
 * the edit path (auto mode) with nothing lost or doubled. When an append's outcome is unknown, or
 * the text diverges from what was streamed (a retried model call), the final write hands the
 * messages to the edit path, which rewrites them exactly.
 */
export class StreamReply implements AnswerReply {
  readonly #o: StreamReplyOptions & { maxChars: number; now: () => number };
  readonly #msgs: StreamMessage[] = [];
  readonly #stop = new AbortController();
  #edit: EditReply | undefined;
  #latest: string | undefined;
  readonly #steps = new Map<string, StepUpdate>();
  #diverged = false;
  /** A `chat.startStream` whose answer was lost and whose stream was not found (yet). */
  #uncertainStart = false;
  #refused: SlackCallError | undefined;
  readonly #pacer: Pacer;
  #inflight: Promise<void> | undefined;
  #closed = false;
  #writes = 0;

  constructor(options: StreamReplyOptions) {
    this.#o = { maxChars: STREAM_MESSAGE_CHARS, now: Date.now, ...options };
    this.#pacer = new Pacer(options.intervalMs, this.#o.now);
  }

  get path(): 'native' | 'edit' {
    return this.#edit ? 'edit' : 'native';
  }

  get messageTs(): readonly string[] {
    return this.#edit ? this.#edit.messageTs : this.#msgs.map((m) => m.ts);
  }

  get writes(): number {
    return this.#writes + (this.#edit?.writes ?? 0);
  }

  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  async open(): Promise<void> {
    const { status } = this.#o;
    if (!status) return;
    // Best effort: a refused or rate-limited status never delays or fails the answer.
    await this.#setStatus(status.text, status.loadingMessages);
  }

  step(update: StepUpdate): void {
    // Shown by the reply-layer rewrite; until then steps are kept, not shown.
    if (this.#edit) this.#edit.step(update);
    else this.#steps.set(update.id, update);
  }

  show(markdown: string): void {
    if (this.#closed) return;
    if (this.#edit) {
      this.#edit.show(markdown);
      return;
    }
    this.#latest = markdown;
    this.#schedule();
  }

  async finish(markdown: string, options: { notice?: string; feedback?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#pacer.cancel();
    await this.#inflight;
    if (this.#refused) throw this.#refused;
    if (this.#stop.signal.aborted) return; // Slack ended the stream when the user pressed Stop.
    if (!this.#edit) {
      const body = neutraliseMentions(markdown);
      const sent = this.#sent();
      if (!this.#diverged && body.startsWith(sent) && this.#msgs.every((m) => m.exact)) {
        const rest = body.slice(sent.length);
        const tail = options.notice ? `${rest}${body ? '\n\n' : ''}${options.notice}` : rest;
        const exact = await this.#final(
          tail || (this.#msgs.length === 0 ? '…' : ''),
          options.feedback ?? false,
        );
        if (this.#refused) throw this.#refused;
        if (this.#stop.signal.aborted || (exact && !this.#edit)) return;
      }
      // What Slack shows is uncertain or no longer what we want: end the streams, rewrite exactly.
      if (!this.#edit) await this.#repair();
      if (this.#stop.signal.aborted) return;
    }
    await this.#edit!.finish(markdown, options);
  }

  async abandon(): Promise<void> {
    this.#closed = true;
    this.#pacer.cancel();
    await this.#inflight;
    if (this.#edit) return this.#edit.abandon();
    if (this.#msgs.length === 0 && this.#o.status) await this.#setStatus('');
    // Nothing more will be written: leave no message "streaming" (best effort).
    for (const m of this.#msgs.filter((x) => x.open)) await this.#close(m, undefined).catch(() => undefined);
  }

  async #setStatus(text: string, loadingMessages?: string[]): Promise<void> {
    const { slack, channel, threadTs, logger } = this.#o;
    try {
      await withinTime('assistant.threads.setStatus', Math.min(this.#o.timeLeftMs(), 2_000), () =>
        slack.setStatus(channel, threadTs, text, loadingMessages),
      );
    } catch (error) {
      logger.warn('thread status not set', { slackError: (error as SlackCallError).slackError });
    }
  }

  #schedule(): void {
    if (this.#closed || this.#inflight || this.#latest === undefined) return;
    this.#pacer.schedule(() => this.#flush());
  }

  /** The Markdown the stream messages show, as far as we know. */
  #sent(): string {
    return this.#msgs.map((m) => m.text).join('');
  }

  #flush(): void {
    if (this.#closed || this.#latest === undefined || this.#edit || this.#diverged) return;
    const body = neutraliseMentions(stablePrefix(this.#latest, 120));
    const sent = this.#sent();
    if (!body.startsWith(sent)) {
      // A retried model call starts over: stop streaming, the final write rewrites the reply.
      this.#diverged = true;
      return;
    }
    const delta = body.slice(sent.length);
    if (delta === '') return;
    this.#pacer.wrote();
    this.#inflight = this.#deliver(delta, false)
      .then(() => undefined)
      .catch((error) => this.#streamingFailed(error))
      .finally(() => {
        this.#pacer.wrote();
        this.#inflight = undefined;
        if (!this.#edit) this.#schedule();
      });
  }

  #streamingFailed(error: unknown): void {
    // Budget spent or rate limited: the next append (with all text so far) waits.
    const { until } = streamingFailure(error, this.#o.logger, this.#o.now());
    this.#pacer.pausedUntil = Math.max(this.#pacer.pausedUntil, until);
  }

  /**
   * Writes `delta` after what the reply already shows: appends to the open message, continuing in
   * a new stream message when it is full or Slack ended it.
   * @returns false when the answer moved to the edit path or the user stopped it.
   */
  async #deliver(delta: string, final: boolean): Promise<boolean> {
    let rest = delta;
    while (rest !== '') {
      if (this.#edit || this.#stop.signal.aborted || this.#refused) return false;
      const current = this.#msgs.at(-1);
      if (!current?.open) {
        const piece = cut(rest, this.#o.maxChars);
        if (!(await this.#start(piece, final))) return false;
        rest = rest.slice(piece.length);
        continue;
      }
      const room = this.#o.maxChars - current.text.length;
      if (room <= 0) {
        await this.#closeFull(current);
        continue;
      }
      const piece = cut(rest, room);
      try {
        await this.#call(final, 'chat.appendStream', () =>
          this.#o.slack.appendStream(this.#o.channel, current.ts, piece),
        );
        current.text += piece;
        this.#writes++;
        rest = rest.slice(piece.length);
      } catch (error) {
        if (!(error instanceof SlackCallError)) throw error;
        if (error.slackError === STOPPED_BY_USER) {
          this.#userStopped(current);
          return false;
        }
        if (ENDED.has(error.slackError ?? '')) {
          // Expired or full: the message keeps what it had; the text continues in a new one.
          this.#o.logger.warn('stream message ended by Slack; continuing in a new message', {
            slackError: error.slackError,
          });
          // A full one is still streaming: stop it, best effort, so nothing stays "streaming".
          if (error.slackError === 'msg_too_long') await this.#closeFull(current).catch(() => undefined);
          current.open = false;
          continue;
        }
        if (error.uncertain) {
          // Maybe applied: count it as shown, and rewrite this message exactly at the end.
          current.text += piece;
          current.exact = false;
          rest = rest.slice(piece.length);
        }
        throw error;
      }
    }
    return true;
  }

  /** Starts a stream message with `piece`; falls back to the edit path when streaming is unavailable. */
  async #start(piece: string, final: boolean): Promise<boolean> {
    const { slack, channel, threadTs, recipient, logger } = this.#o;
    try {
      const ts = await this.#call(final, 'chat.startStream', () =>
        slack.startStream({ channel, threadTs, markdown: piece, ...(recipient ? { recipient } : {}) }),
      );
      this.#msgs.push({ ts, text: piece, exact: true, open: true });
      this.#writes++;
      await this.#o.onMessages?.({ path: 'native', messageTs: this.#msgs.map((m) => m.ts) });
      return true;
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      const code = error.slackError ?? '';
      const unavailable = WORKSPACE_UNAVAILABLE.has(code) || HERE_UNAVAILABLE.has(code);
      if (unavailable && this.#msgs.length === 0) {
        if (WORKSPACE_UNAVAILABLE.has(code)) await this.#o.onUnavailable?.(code).catch(() => undefined);
        if (this.#o.fallback) {
          logger.info('native streaming is not available here; continuing on the edit path', {
            slackError: code,
          });
          this.#edit = this.#o.fallback([]);
          if (!this.#closed && this.#latest !== undefined) this.#edit.show(this.#latest);
          return false;
        }
        logger.error('native streaming was refused and SLACK_STREAMING=native allows no fallback', {
          slackError: code,
        });
        this.#refused = new SlackCallError(
          'chat.startStream',
          { slackError: code, retryable: false },
          { cause: error },
        );
        this.#stop.abort(this.#refused); // no more tokens for an answer nobody can see
        const tag = { eventId: this.#o.eventId, chunk: 0 };
        await withinTime('chat.postMessage', this.#o.timeLeftMs(), () =>
          slack.post({ channel, threadTs, text: this.#o.refusedNote, tag }),
        ).catch(() => logger.warn('could not post the streaming refusal note'));
        return false;
      }
      if (error.uncertain) {
        // The stream may exist; it carries no tag until it is stopped. Messages of this thread are
        // written one job at a time (the FIFO group is the thread), so an untagged message of ours
        // after the question is this answer's.
        if (await this.#adoptUncertainStarts(piece)) return true;
        // Not visible (yet): start no second stream; the final write looks again and repairs.
        this.#diverged = true;
        this.#uncertainStart = true;
        return false;
      }
      if (error.category === 'auth' || error.category === 'conversation') {
        // Nothing can be shown here: stop paying for tokens; finish() reports the refusal.
        logger.warn('Slack refused the stream; stopping the model', { slackError: code });
        this.#refused = error;
        this.#stop.abort(error);
        return false;
      }
      throw error;
    }
  }

  /**
   * Adopts streams this reply started although their answer was lost: untagged messages of the bot
   * after the question (a stream is tagged only when it is stopped; the thread's FIFO group makes
   * this answer the only writer). With `piece`, the newest one becomes the open message; without,
   * all are added for the repair to rewrite.
   * @returns whether one was found.
   */
  async #adoptUncertainStarts(piece?: string): Promise<boolean> {
    if (piece === undefined && !this.#uncertainStart) return false;
    const { slack, channel, threadTs, askedTs, botUserId } = this.#o;
    const found = await withinTime('conversations.replies', this.#o.timeLeftMs(), () =>
      slack.findReplies(channel, threadTs, askedTs, botUserId),
    ).catch(() => []);
    const known = new Set(this.#msgs.map((m) => m.ts));
    const orphans = found.filter((m) => !m.tag && !known.has(m.ts));
    if (orphans.length === 0) return false;
    for (const m of orphans) this.#msgs.push({ ts: m.ts, text: piece ?? '', exact: false, open: true });
    this.#uncertainStart = false;
    await this.#o.onMessages?.({ path: 'native', messageTs: this.#msgs.map((m) => m.ts) });
    return true;
  }

  /** Stops a stream message; the last one carries the feedback buttons. */
  async #close(message: StreamMessage, extra: { markdown?: string; blocks?: unknown[] } | undefined) {
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
    if (extra?.markdown) message.text += extra.markdown;
    this.#writes++;
  }

  /**
   * Stops a message that is full. Slack having ended it already (or an answer lost on the way)
   * does not stop the answer: the text goes on in a new message.
   */
  async #closeFull(message: StreamMessage): Promise<void> {
    try {
      await this.#close(message, undefined);
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      if (error.slackError === STOPPED_BY_USER) return this.#userStopped(message);
      if (!error.uncertain && !ENDED.has(error.slackError ?? '')) throw error;
      message.open = false;
    }
  }

  /** The user pressed Stop: no more writes to the stream, and the model is aborted. */
  #userStopped(message: StreamMessage): void {
    this.#o.logger.info('the user stopped the answer');
    message.open = false;
    this.#stop.abort(new Error('stopped by user'));
  }

  /**
   * Delivers the rest and stops the last stream with the buttons.
   * @returns whether every message now shows exactly what was meant (false: repair it).
   */
  async #final(tail: string, feedback: boolean): Promise<boolean> {
    const blocks = feedback ? [feedbackBlock()] : undefined;
    const exact = () => this.#msgs.every((m) => m.exact);
    let body = tail;
    // Three rounds at most: a stream that expires just before its stop is continued once more.
    for (let round = 0; round < 3; round++) {
      const current = this.#msgs.at(-1);
      // Keep a short ending for stopStream itself, so it costs one call.
      if (!(current?.open && current.text.length + body.length <= this.#o.maxChars)) {
        if (body === '') {
          this.#o.logger.warn('the stream ended before its feedback buttons could be added');
          return exact();
        }
        try {
          if (!(await this.#deliver(body, true))) return false;
        } catch (error) {
          if (error instanceof SlackCallError && error.uncertain) return false;
          throw error;
        }
        body = '';
      }
      const last = this.#msgs.at(-1)!;
      try {
        await this.#close(last, { ...(body ? { markdown: body } : {}), ...(blocks ? { blocks } : {}) });
        return exact();
      } catch (error) {
        if (!(error instanceof SlackCallError)) throw error;
        if (error.slackError === STOPPED_BY_USER) {
          // Stop pressed after the last append: the answer ends as the user stopped it.
          this.#userStopped(last);
          return true;
        }
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

  /** Ends every open stream, then hands the messages to the edit path to rewrite them exactly. */
  async #repair(): Promise<void> {
    await this.#adoptUncertainStarts();
    for (const m of this.#msgs.filter((x) => x.open)) {
      await this.#close(m, undefined).catch((error) => {
        if (error instanceof SlackCallError && error.slackError === STOPPED_BY_USER) this.#userStopped(m);
        else
          this.#o.logger.warn('could not stop a stream before rewriting it', {
            slackError: error.slackError,
          });
      });
    }
    if (this.#stop.signal.aborted) return;
    if (!this.#o.fallback)
      throw new SlackCallError('chat.stopStream', { slackError: 'uncertain_stream', retryable: true });
    this.#o.logger.info('rewriting the streamed reply exactly on the edit path', {
      messages: this.#msgs.length,
    });
    this.#edit = this.#o.fallback(this.#msgs.map((m) => m.ts));
  }

  /**
   * One write within the time left and the workspace's budget (a stream's start goes with the
   * priority of a final write: it shows the first text). Final writes retry transient failures
   * while time allows; streaming writes do not; a write whose outcome is unknown is never repeated
   * (an append would show twice): the final write repairs it instead.
   */
  #call<T>(final: boolean, method: string, fn: () => Promise<T>): Promise<T> {
    return writeToSlack(this.#o, method, fn, {
      final,
      priority: final || method === 'chat.startStream',
      safeToRetry: (error) => !error.uncertain,
      marginMs: 1_000,
    });
  }
}
