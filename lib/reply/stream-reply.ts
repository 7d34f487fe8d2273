import { SlackCallError } from '../errors';
import { feedbackBlock } from '../slack/feedback-block';
import { neutraliseMentions, stablePrefix } from '../slack/mentions';
import type { AnswerReply, ReplyAdapterOptions, StepUpdate } from './answer-reply';
import type { EditReply } from './edit-reply';
import { BudgetWaitError } from './errors';
import { isOwnMessage } from './own-messages';
import { PacedWriter } from './paced-writer';
import { type WriteOptions, withinTime, writeToSlack } from './reply-write';
import type { StreamContent } from './slack-writes';
import { taskCard } from './step-render';
import { ENDED, HERE_UNAVAILABLE, STOPPED_BY_USER, WORKSPACE_UNAVAILABLE } from './stream-limits';
import { fitInMessage } from './stream-split';
import { nextStreamState, type StreamEvent, type StreamState } from './stream-state';

/** In `auto` mode, an answer waits at most this long for the workspace's stream budget before taking the edit path. */
export const STREAM_START_WAIT_MS = 1_000;

/** Options of a {@link StreamReply}; `intervalMs` spaces appends (`chat.appendStream` is Tier 4). */
export interface StreamReplyOptions extends ReplyAdapterOptions {
  /** Outside DMs: the asking user and that user's team (https://docs.slack.dev/reference/methods/chat.startStream). */
  recipient?: { userId: string; teamId: string } | undefined;
  /** Shown under the thread until the first write (`assistant.threads.setStatus`). */
  status?: { text: string; loadingMessages: string[] } | undefined;
  /**
   * Builds an edit-path reply over `messageTs` (those that may still stream in `streaming`): to
   * rewrite streamed messages exactly, or to post an answer complete before its first write.
   */
  edit: (
    messageTs: readonly string[],
    options?: { placeholder?: boolean; streaming?: readonly string[] },
  ) => EditReply;
  /** `auto` mode: when streaming is unavailable or busy here, the answer continues on the edit path. */
  fallback: boolean;
  /** Streaming refused for the whole workspace; `auto` remembers it. Best effort. */
  onUnavailable?: (slackError: string) => Promise<void>;
  /** Posts the note shown when native-only streaming is refused. */
  refusedNote: string;
}

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

/**
 * The native path of {@link AnswerReply}: Slack's AI streaming (https://docs.slack.dev/ai/developing-ai-apps#streaming).
 * A loading status first; the first text or step starts a stream (`chat.startStream`), then what is
 * new is appended at most once per `intervalMs` — task cards (`task_update` chunks) before text —
 * and `chat.stopStream` ends it with the feedback buttons. A full or expired message continues in a
 * new stream message. Stop (`stopped_by_user`) aborts {@link stopped} and ends all writing.
 *
 * Where it stands is one {@link StreamState}. The answer moves to the edit path when streaming is
 * refused as unavailable or (auto mode) cannot start within a second, when it is complete before
 * its first write (one post), and to repair what Slack shows when an answer was lost.
 */
export class StreamReply implements AnswerReply {
  readonly #o: StreamReplyOptions & { now: () => number };
  readonly #msgs: StreamMessage[] = [];
  readonly #stop = new AbortController();
  #state: StreamState<EditReply> = { kind: 'streaming' };
  /** The answer's Markdown so far. */
  #latest = '';
  /** The part of the (neutralised) answer that the stream messages hold. */
  #shown = '';
  /** What the next message starts with before the rest of the answer (a reopened code block). */
  #nextPrefix = '';
  readonly #steps = new Map<string, StepUpdate>();
  /** What each step's card last showed, so only changed cards are sent. */
  readonly #sentSteps = new Map<string, string>();
  readonly #writer: PacedWriter;
  /** Status calls in order: the first stream write waits for them, so no status outlives the reply. */
  #status: Promise<unknown> = Promise.resolve();
  #writes = 0;

  constructor(options: StreamReplyOptions) {
    this.#o = { now: Date.now, ...options };
    this.#writer = new PacedWriter({
      intervalMs: options.intervalMs,
      now: this.#o.now,
      write: () => this.#write(),
      logger: options.logger,
    });
  }

  get path(): 'native' | 'edit' {
    return this.#state.kind === 'moved' ? 'edit' : 'native';
  }

  get messageTs(): readonly string[] {
    return this.#state.kind === 'moved' ? this.#state.to.messageTs : this.#msgs.map((m) => m.ts);
  }

  get writes(): number {
    return this.#writes + (this.#state.kind === 'moved' ? this.#state.to.writes : 0);
  }

  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  /** Shows the loading status; where Slack refuses it (auto mode), a placeholder message instead. */
  async open(): Promise<void> {
    const { status } = this.#o;
    if (!status) return;
    const shown = await this.#setStatus(status.text, status.loadingMessages);
    if (!shown && this.#o.fallback) {
      const edit = this.#o.edit([], { placeholder: true });
      this.#move(edit, 'no_status');
      await edit.open();
    }
  }

  show(markdown: string): void {
    if (this.#state.kind === 'moved') {
      this.#state.to.show(markdown);
      return;
    }
    this.#latest = markdown;
    this.#writer.request();
  }

  step(update: StepUpdate): void {
    if (this.#state.kind === 'moved') {
      this.#state.to.step(update);
      return;
    }
    this.#steps.set(update.id, update);
    const { status } = this.#o;
    // Until the stream starts, the status line names what runs (Slack shows "<app> <status>").
    if (status && this.#msgs.length === 0 && update.status === 'in_progress') {
      const text = `is ${update.title.charAt(0).toLowerCase()}${update.title.slice(1)}`.slice(0, 80);
      this.#status = this.#status.then(() => this.#setStatus(`${text}…`));
    }
    this.#writer.request();
  }

  async finish(markdown: string, options: { notice?: string; feedback?: boolean } = {}): Promise<void> {
    await this.#writer.close();
    await this.#status;
    if (this.#state.kind === 'streaming' && this.#msgs.length === 0) {
      // Nothing written yet: the whole answer goes in one post, no stream to start and stop.
      this.#move(this.#o.edit([]), 'complete_before_first_write', false);
    }
    if (this.#state.kind === 'streaming') {
      const body = neutraliseMentions(markdown);
      if (body.startsWith(this.#shown) && this.#msgs.every((m) => m.exact)) {
        const rest = body.slice(this.#shown.length);
        const tail = options.notice ? `${rest}${body ? '\n\n' : ''}${options.notice}` : rest;
        const exact = await this.#final(tail, options.feedback ?? false);
        if (exact && this.#state.kind === 'streaming') return;
      }
    }
    // What Slack shows is uncertain or not what we want: end the streams, rewrite them exactly.
    if (this.#state.kind === 'streaming' || this.#state.kind === 'uncertain') await this.#repair();
    const state = this.#state as StreamState<EditReply>;
    if (state.kind === 'refused') throw state.error;
    if (state.kind === 'moved') await state.to.finish(markdown, options);
  }

  async abandon(): Promise<void> {
    await this.#writer.close();
    await this.#status;
    if (this.#state.kind === 'moved') return this.#state.to.abandon();
    if (this.#msgs.length === 0 && this.#o.status) await this.#setStatus('');
    // Nothing more will be written: leave no message "streaming" (best effort).
    for (const m of this.#msgs.filter((x) => x.open)) await this.#close(m).catch(() => undefined);
  }

  #event(event: StreamEvent<EditReply>): void {
    this.#state = nextStreamState(this.#state, event);
    if (this.#state.kind === 'stopped') this.#stop.abort(new Error(STOPPED_BY_USER));
    // Nothing can be shown: stop paying for tokens.
    if (this.#state.kind === 'refused') this.#stop.abort(this.#state.error);
  }

  /** Continues on the edit path; what was asked to be shown so far is shown there (unless finishing). */
  #move(edit: EditReply, why: Extract<StreamEvent<EditReply>, { type: 'move' }>['why'], replay = true): void {
    this.#event({ type: 'move', to: edit, why });
    if (this.#state.kind !== 'moved' || !replay) return;
    for (const step of this.#steps.values()) edit.step(step);
    if (this.#latest) edit.show(this.#latest);
  }

  async #setStatus(text: string, loadingMessages?: string[]): Promise<boolean> {
    const { slack, channel, threadTs, logger } = this.#o;
    try {
      await withinTime('assistant.threads.setStatus', Math.min(this.#o.timeLeftMs(), 2_000), () =>
        slack.setStatus(channel, threadTs, text, loadingMessages),
      );
      return true;
    } catch (error) {
      // Best effort: a refused or rate-limited status never delays or fails the answer.
      logger.warn('thread status not set', { slackError: (error as SlackCallError).slackError });
      return false;
    }
  }

  /** One paced streaming write: the cards and text that are new since the last one. */
  async #write(): Promise<void> {
    if (this.#state.kind !== 'streaming') return;
    await this.#status;
    const pending = this.#pending(neutraliseMentions(stablePrefix(this.#latest, 120)));
    const tasks = this.#pendingTasks();
    if (pending === undefined || (pending === '' && tasks.length === 0)) return;
    await this.#deliver(tasks, pending, false);
  }

  /** The text after what the messages hold; undefined when the answer no longer starts with it. */
  #pending(body: string): string | undefined {
    if (body.startsWith(this.#shown)) return body.slice(this.#shown.length);
    // A retried model call starts over: stop streaming, the final write rewrites the reply.
    this.#event({ type: 'uncertain', why: 'diverged' });
    return undefined;
  }

  #pendingTasks(): StreamContent['tasks'] & object {
    return [...this.#steps.values()]
      .map(taskCard)
      .filter((t) => this.#sentSteps.get(t.id) !== JSON.stringify(t));
  }

  #sent(tasks: StreamContent['tasks']): void {
    for (const t of tasks ?? []) this.#sentSteps.set(t.id, JSON.stringify(t));
  }

  /**
   * Writes `tasks` and then `text` after what the reply shows: into the open message, continuing in
   * a new stream message when it is full or Slack ended it.
   * @returns false when the answer moved, was stopped or refused, or its start was lost.
   */
  async #deliver(tasks: NonNullable<StreamContent['tasks']>, text: string, final: boolean): Promise<boolean> {
    let rest = text;
    let cards = tasks;
    while (rest !== '' || cards.length > 0) {
      if (this.#state.kind !== 'streaming') return false;
      const current = this.#msgs.at(-1);
      const shown = current?.open ? current.text : this.#nextPrefix;
      const fit = fitInMessage(shown, rest, final);
      if (fit.piece === '' && cards.length === 0 && !fit.full) return true; // held back for now
      const content = {
        markdown: current?.open ? fit.piece : `${this.#nextPrefix}${fit.piece}`,
        tasks: cards,
      };
      if (!current?.open) {
        if (!(await this.#start(content, final))) return false;
        this.#nextPrefix = '';
      } else if ((fit.piece !== '' || cards.length > 0) && !(await this.#append(current, content, final))) {
        if (this.#state.kind !== 'streaming' || current.open) return false;
        continue; // Slack ended the message: the same text goes into a new one.
      }
      cards = [];
      this.#shown += rest.slice(0, fit.consumed);
      rest = rest.slice(fit.consumed);
      if (fit.full && rest !== '') {
        this.#nextPrefix = fit.nextPrefix;
        await this.#closeFull(this.#msgs.at(-1)!);
      } else if (!fit.full && rest !== '') return true; // the rest waits for a place to end
    }
    return true;
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
        if (error.slackError === 'msg_too_long') await this.#closeFull(message).catch(() => undefined);
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
    this.#writes++;
    return true;
  }

  /** Starts a stream message; moves to the edit path when streaming is unavailable or busy here. */
  async #start(content: StreamContent, final: boolean): Promise<boolean> {
    const { slack, channel, threadTs, recipient, logger } = this.#o;
    const plan = (content.tasks?.length ?? 0) > 1;
    try {
      // Auto mode asks the budget for a start within a second: otherwise the edit path is free now.
      const wait: Partial<WriteOptions> =
        this.#o.fallback && !final ? { maxWaitMs: STREAM_START_WAIT_MS } : {};
      const ts = await this.#call(
        final || this.#o.fallback,
        'chat.startStream',
        () => slack.startStream({ channel, threadTs, content, plan, ...(recipient ? { recipient } : {}) }),
        { priority: 'final', ...wait },
      );
      this.#msgs.push({ ts, text: content.markdown ?? '', exact: true, open: true });
      this.#sent(content.tasks);
      this.#writes++;
      await this.#recorded();
      return true;
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      const code = error.slackError ?? '';
      // The workspace's streams are taken for now (our budget, or Slack's 429): the edit path is free.
      const busy = error instanceof BudgetWaitError || error.retryAfterSeconds !== undefined;
      if (this.#msgs.length === 0 && this.#o.fallback && busy) {
        logger.info('no stream can start here within a second; continuing on the edit path', {
          waitMs: (error.retryAfterSeconds ?? 0) * 1000,
        });
        this.#move(this.#o.edit([]), 'busy');
        return false;
      }
      if (this.#msgs.length === 0 && (WORKSPACE_UNAVAILABLE.has(code) || HERE_UNAVAILABLE.has(code))) {
        if (WORKSPACE_UNAVAILABLE.has(code)) await this.#o.onUnavailable?.(code).catch(() => undefined);
        if (this.#o.fallback) {
          logger.info('native streaming is not available here; continuing on the edit path', {
            slackError: code,
          });
          this.#move(this.#o.edit([]), 'unavailable');
          return false;
        }
        logger.error('native streaming was refused and SLACK_STREAMING=native allows no fallback', {
          slackError: code,
        });
        this.#event({
          type: 'refuse',
          error: new SlackCallError(
            'chat.startStream',
            { slackError: code, retryable: false },
            { cause: error },
          ),
        });
        const tag = { eventId: this.#o.eventId, chunk: 0 };
        await withinTime('chat.postMessage', this.#o.timeLeftMs(), () =>
          slack.post({ channel, threadTs, text: this.#o.refusedNote, tag }),
        ).catch(() => logger.warn('could not post the streaming refusal note'));
        return false;
      }
      if (error.uncertain) {
        // The stream may exist, untagged until it is stopped: find it, or let the final write repair.
        if (await this.#adoptLostStart(content)) return true;
        this.#event({ type: 'uncertain', why: 'lost_start' });
        return false;
      }
      if (error.category === 'auth' || error.category === 'conversation') {
        logger.warn('Slack refused the stream; stopping the model', { slackError: code });
        this.#event({ type: 'refuse', error });
        return false;
      }
      throw error;
    }
  }

  /**
   * Adopts the streams this reply started although their answers were lost: untagged bot messages
   * of the thread that are this event's own (created since its record was first received; see
   * own-messages.ts), never an earlier question's. With `content`, the newest becomes the open message.
   * @returns whether one was found.
   */
  async #adoptLostStart(content?: StreamContent): Promise<boolean> {
    const { slack, channel, threadTs, askedTs, botUserId, eventId, ownSince } = this.#o;
    const found = await withinTime('conversations.replies', this.#o.timeLeftMs(), () =>
      slack.findReplies(channel, threadTs, askedTs, botUserId),
    ).catch(() => []);
    const known = new Set(this.#msgs.map((m) => m.ts));
    const orphans = found.filter((m) => !m.tag && !known.has(m.ts) && isOwnMessage(m, eventId, ownSince));
    if (orphans.length === 0) return false;
    for (const m of orphans)
      this.#msgs.push({ ts: m.ts, text: content?.markdown ?? '', exact: false, open: true });
    this.#sent(content?.tasks);
    this.#event({ type: 'start_found' });
    await this.#recorded();
    return true;
  }

  /** Stops a stream message, tagging it as this event's; the last one carries the feedback buttons. */
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
    this.#writes++;
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
    this.#event({ type: 'user_stopped' });
    this.#o.logger.info('the user stopped the streamed answer', { chars: message.text.length });
    return false;
  }

  /**
   * Writes the rest of the answer and stops the stream with the feedback buttons.
   * @returns whether every message is known to show exactly what was sent.
   */
  async #final(tail: string, feedback: boolean): Promise<boolean> {
    const blocks = feedback ? [feedbackBlock()] : undefined;
    const exact = () => this.#msgs.every((m) => m.exact);
    let body = tail || (this.#msgs.length === 0 ? '…' : '');
    let tasks = this.#pendingTasks();
    // Three rounds at most: a stream that expires just before its stop is continued once more.
    for (let round = 0; round < 3; round++) {
      const current = this.#msgs.at(-1);
      // A short ending goes with the stop itself, so it costs one call.
      if (!current?.open || fitInMessage(current.text, body, true).full) {
        if (body === '' && tasks.length === 0) {
          this.#o.logger.warn('the stream ended before its feedback buttons could be added');
          return exact();
        }
        try {
          if (!(await this.#deliver(tasks, body, true))) return false;
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
        return exact();
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

  /** Ends every open stream, then hands the messages to the edit path to rewrite them exactly. */
  async #repair(): Promise<void> {
    if (this.#state.kind === 'uncertain' && this.#state.why === 'lost_start') await this.#adoptLostStart();
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
    if (this.#state.kind === 'stopped' || this.#state.kind === 'refused') return;
    this.#o.logger.info('rewriting the streamed reply exactly on the edit path', {
      messages: this.#msgs.length,
    });
    const streaming = this.#streaming();
    this.#move(
      this.#o.edit(
        this.#msgs.map((m) => m.ts),
        { streaming },
      ),
      'repair',
      false,
    );
  }

  /** The messages that may still be streaming. */
  #streaming(): string[] {
    return this.#msgs.filter((m) => m.open || m.maybeStreaming).map((m) => m.ts);
  }

  async #recorded(): Promise<void> {
    await this.#o.onMessages?.({
      path: 'native',
      messageTs: this.#msgs.map((m) => m.ts),
      streaming: this.#streaming(),
    });
  }

  /**
   * One write within the time left and the workspace's budget (a stream's start goes with the
   * priority of a final write: it shows the first text). A write whose outcome is unknown is never
   * repeated (an append would show twice): the final write repairs it instead.
   */
  #call<T>(
    final: boolean,
    method: string,
    fn: () => Promise<T>,
    extra: Partial<WriteOptions> = {},
  ): Promise<T> {
    return writeToSlack(this.#o, method, fn, {
      final,
      safeToRetry: (error) => !error.uncertain,
      marginMs: 1_000,
      ...extra,
    });
  }
}
