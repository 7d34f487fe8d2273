import { SlackCallError } from '../errors';
import { neutraliseMentions, stablePrefix } from '../slack/mentions';
import { withinTime } from '../slack/web-api-call';
import type { AnswerReply, ReplyAdapterOptions, StepUpdate } from './answer-reply';
import type { EditReply } from './edit-reply';
import { PacedWriter } from './paced-writer';
import { taskCard } from './step-render';
import { HERE_UNAVAILABLE, STOPPED_BY_USER, WORKSPACE_UNAVAILABLE } from './stream-limits';
import { StreamMessages, type StreamMessagesOptions } from './stream-messages';
import { type MoveWhy, nextStreamState, type StreamEvent, type StreamState } from './stream-state';
import { BudgetWaitError } from './write-budget';

/** In `auto` mode, how long a stream's start may wait for the budget before the edit path takes over. */
export const STREAM_START_WAIT_MS = 1_000;

/**
 * While a tool runs and nothing new is written, its running cards are written again this often:
 * Slack tells an app of Stop only in the answer to a stream write (`stopped_by_user`), so without
 * a write a tool would run to its end after the user pressed Stop.
 */
export const STOP_CHECK_MS = 2_500;

/** Options of a {@link StreamReply}; `intervalMs` spaces appends (`chat.appendStream` is Tier 4). */
export interface StreamReplyOptions extends ReplyAdapterOptions, Pick<StreamMessagesOptions, 'recipient'> {
  /** Shown under the thread until the first write (`assistant.threads.setStatus`). */
  status: { text: string; loadingMessages: string[] };
  /**
   * Builds an edit-path reply over `messageTs` (those that may still stream in `streaming`): to
   * rewrite streamed messages exactly, or to post an answer complete before its first write.
   */
  edit: (
    messageTs: readonly string[],
    options?: { placeholder?: boolean; streaming?: readonly string[]; quiet?: boolean },
  ) => EditReply;
  /** `auto` mode: when streaming is unavailable or busy here, the answer continues on the edit path. */
  fallback: boolean;
  /** Streaming refused for the whole workspace; `auto` remembers it. Best effort: never throws. */
  onUnavailable: (slackError: string) => Promise<void>;
  /** Posts the note shown when native-only streaming is refused. */
  refusedNote: string;
}

/**
 * The native path of {@link AnswerReply}: Slack's AI streaming
 * (https://docs.slack.dev/ai/developing-ai-apps#streaming).
 * A loading status first; the first text or step starts a stream (`chat.startStream`), then what is
 * new is appended at most once per `intervalMs` — task cards (`task_update` chunks) before text —
 * and `chat.stopStream` ends it with the feedback buttons (the messages' mechanics: stream-messages.ts).
 * Stop (`stopped_by_user`) aborts {@link stopped} and ends all writing. Where it stands, and when
 * the answer moves to the edit path, is one {@link StreamState}.
 */
export class StreamReply implements AnswerReply {
  readonly #o: StreamReplyOptions;
  readonly #stop = new AbortController();
  readonly #msgs: StreamMessages;
  #state: StreamState<EditReply> = { kind: 'streaming' };
  /** The answer's Markdown so far. */
  #latest = '';
  readonly #steps = new Map<string, StepUpdate>();
  readonly #writer: PacedWriter;
  /** Status calls in order: the first stream write waits for them, so no status outlives the reply. */
  #status: Promise<unknown> = Promise.resolve();
  /** A stream write has begun: the status is the stream's to clear from now on. */
  #writing = false;
  /** Asks for a write every {@link STOP_CHECK_MS} while a step runs. */
  #stopCheck: NodeJS.Timeout | undefined;
  /** The next write, even with nothing new, sends the running cards again (see {@link STOP_CHECK_MS}). */
  #checkStop = false;

  constructor(options: StreamReplyOptions) {
    this.#o = options;
    this.#msgs = new StreamMessages({
      ...options,
      startWaitMs: options.fallback ? STREAM_START_WAIT_MS : undefined,
      streaming: () => this.#state.kind === 'streaming',
      onEvent: (event) => this.#event(event),
      onStartFailed: (error, first) => this.#startFailed(error, first),
    });
    this.#writer = new PacedWriter({
      intervalMs: options.intervalMs,
      write: () => this.#write(),
      logger: options.logger,
    });
  }

  get path(): 'native' | 'edit' {
    return this.#state.kind === 'moved' ? 'edit' : 'native';
  }

  get messageTs(): readonly string[] {
    return this.#state.kind === 'moved' ? this.#state.to.messageTs : this.#msgs.ts;
  }

  get writes(): number {
    return this.#msgs.writes + (this.#state.kind === 'moved' ? this.#state.to.writes : 0);
  }

  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  /** Shows the loading status; where Slack refuses it (auto mode), a placeholder message instead. */
  async open(): Promise<void> {
    const { status } = this.#o;
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
    // Until the stream starts, the status line names what runs (Slack shows "<app> <status>"); not
    // once a write has begun, or a status could reach Slack after the stream and outlive it.
    if (!this.#writing && update.status === 'in_progress') {
      const title = neutraliseMentions(update.title);
      const text = `is ${title.charAt(0).toLowerCase()}${title.slice(1)}`.slice(0, 80);
      this.#status = this.#status.then(() => this.#setStatus(`${text}…`));
    }
    this.#writer.request();
    if (update.status === 'in_progress') this.#watchForStop();
  }

  /** While any step runs on a started stream, asks for a write now and then (see {@link STOP_CHECK_MS}). */
  #watchForStop(): void {
    if (this.#stopCheck) return;
    this.#stopCheck = setInterval(() => {
      // Never outlives the invocation: a warm instance must not write to an old answer's stream.
      if (!this.#running() || this.#state.kind !== 'streaming' || this.#o.timeLeftMs() <= 0)
        return this.#endStopCheck();
      this.#checkStop = true;
      this.#writer.request();
    }, STOP_CHECK_MS);
    this.#stopCheck.unref();
  }

  /** A step still running, if any. */
  #running(): StepUpdate | undefined {
    return [...this.#steps.values()].find((s) => s.status === 'in_progress');
  }

  #endStopCheck(): void {
    clearInterval(this.#stopCheck);
    this.#stopCheck = undefined;
  }

  async finish(markdown: string, options: { notice?: string; feedback?: boolean } = {}): Promise<void> {
    this.#endStopCheck();
    await this.#writer.close();
    await this.#status;
    if (this.#state.kind === 'streaming' && this.#msgs.ts.length === 0) {
      // Nothing written yet: the whole answer goes in one post, no stream to start and stop.
      this.#move(this.#o.edit([]), 'complete_before_first_write', false);
    }
    if (this.#state.kind === 'streaming') {
      const body = neutraliseMentions(markdown);
      const rest = this.#msgs.after(body);
      if (rest !== undefined && this.#msgs.exact) {
        const tail = options.notice ? `${rest}${body ? '\n\n' : ''}${options.notice}` : rest;
        const exact = await this.#msgs.finish(tail, this.#cards(), options.feedback ?? false);
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
    this.#endStopCheck();
    await this.#writer.close();
    await this.#status;
    if (this.#state.kind === 'moved') return this.#state.to.abandon();
    if (this.#msgs.ts.length === 0) await this.#setStatus('');
    // Nothing more will be written: leave no message "streaming" (best effort).
    await this.#msgs.stopAll();
  }

  #event(event: StreamEvent<EditReply>): void {
    this.#state = nextStreamState(this.#state, event);
    if (this.#state.kind === 'stopped') this.#stop.abort(new Error(STOPPED_BY_USER));
    // Nothing can be shown: stop paying for tokens.
    if (this.#state.kind === 'refused') this.#stop.abort(this.#state.error);
  }

  /** Continues on the edit path; what was asked to be shown so far is shown there (unless finishing). */
  #move(edit: EditReply, why: MoveWhy, replay = true): void {
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

  #cards() {
    return this.#msgs.changed([...this.#steps.values()].map(taskCard));
  }

  /** One paced streaming write: the cards and text that are new since the last one. */
  async #write(): Promise<void> {
    if (this.#state.kind !== 'streaming') return;
    this.#writing = true;
    await this.#status;
    const pending = this.#msgs.after(neutraliseMentions(stablePrefix(this.#latest, 120)));
    // A retried model call starts over: stop streaming, the final write rewrites the reply.
    if (pending === undefined) return this.#event({ type: 'uncertain', why: 'diverged' });
    let cards = this.#cards();
    const recheck = this.#checkStop;
    this.#checkStop = false;
    if (pending === '' && cards.length === 0) {
      // Nothing new while a tool runs: one running card again, so that Slack's answer tells of a
      // Stop. One, not all: a message holding too many task chunks has been reported to overflow
      // (about 45-50), and this adds at most four per round of tools.
      if (!recheck || this.#msgs.ts.length === 0) return;
      const running = this.#running();
      if (!running) return;
      cards = [taskCard(running)];
    }
    await this.#msgs.deliver(cards, pending, false);
  }

  /**
   * Decides on a refused stream start: with nothing shown yet, an unavailable or busy stream moves
   * the answer to the edit path (auto mode); with native only, a refusal is noted in the thread; a
   * refusal tied to the token or the conversation stops the model.
   * @returns whether it was decided here (nothing more is written to the stream).
   */
  async #startFailed(error: SlackCallError, first: boolean): Promise<boolean> {
    const { logger, fallback } = this.#o;
    const code = error.slackError ?? '';
    // The workspace's streams are taken for now (our budget, or Slack's 429): the edit path is free.
    const busy = error instanceof BudgetWaitError || error.retryAfterSeconds !== undefined;
    if (first && fallback && busy) {
      // Busy: the answer is posted once, complete; the workspace's edits go to other answers' ends.
      logger.info('no stream can start here within a second; posting the answer once it is complete', {
        waitMs: (error.retryAfterSeconds ?? 0) * 1000,
      });
      this.#move(this.#o.edit([], { quiet: true }), 'busy');
      return true;
    }
    if (first && (WORKSPACE_UNAVAILABLE.has(code) || HERE_UNAVAILABLE.has(code))) {
      if (WORKSPACE_UNAVAILABLE.has(code)) await this.#o.onUnavailable(code);
      if (fallback) {
        logger.info('native streaming is not available here; continuing on the edit path', {
          slackError: code,
        });
        this.#move(this.#o.edit([]), 'unavailable');
        return true;
      }
      logger.error('native streaming was refused and SLACK_STREAMING=native allows no fallback', {
        slackError: code,
      });
      const refusal = new SlackCallError(
        'chat.startStream',
        { slackError: code, retryable: false },
        { cause: error },
      );
      this.#event({ type: 'refuse', error: refusal });
      const { slack, channel, threadTs, eventId, refusedNote } = this.#o;
      await withinTime('chat.postMessage', this.#o.timeLeftMs(), () =>
        slack.post({ channel, threadTs, text: refusedNote, tag: { eventId, chunk: 0 } }),
      ).catch(() => logger.warn('could not post the streaming refusal note'));
      return true;
    }
    if (error.category === 'auth' || error.category === 'conversation') {
      logger.warn('Slack refused the stream; stopping the model', { slackError: code });
      this.#event({ type: 'refuse', error });
      return true;
    }
    return false;
  }

  /** Ends every open stream, then hands the messages to the edit path to rewrite them exactly. */
  async #repair(): Promise<void> {
    if (this.#state.kind === 'uncertain' && this.#state.why === 'lost_start') {
      // A stream may exist that the thread could not show us: posting another reply next to it
      // would show two. The write fails as uncertain; the redelivery searches again and adopts it.
      await this.#msgs.adoptLostStart().catch((error: unknown) => {
        throw new LostStreamStartError({ cause: error });
      });
    }
    await this.#msgs.stopAll();
    if (this.#state.kind === 'stopped' || this.#state.kind === 'refused') return;
    this.#o.logger.info('rewriting the streamed reply exactly on the edit path', {
      messages: this.#msgs.ts.length,
    });
    this.#move(this.#o.edit(this.#msgs.ts, { streaming: this.#msgs.streaming() }), 'repair', false);
  }
}

/**
 * A stream was started but Slack's answer was lost, and the thread did not show it: it may exist.
 * Nothing more is written (another reply beside it would show two); the redelivery looks again.
 */
export class LostStreamStartError extends SlackCallError {
  constructor(options: { cause: unknown }) {
    super('chat.startStream', { retryable: true, uncertain: true }, options);
  }
}
