import type { Admission, Governance } from '../../lib/governance/governance';
import type { ChatAnswer, ChatModel, ChatOverrides, ToolOffer } from '../../lib/llm/openai-chat';
import type { ChatMessage } from '../../lib/llm/prompt';
import type { AnswerJob } from '../../lib/queue/job';
import type { AnswerReply, ReplyRecord, StepUpdate } from '../../lib/reply/answer-reply';
import type { ReplyContext, ReplyOpener, ReplyResume, ReplyTarget } from '../../lib/reply/open-reply';
import type { AssistantThreads } from '../../lib/slack/assistant-threads';

/**
 * In-memory fakes of the answer use case's ports (our own interfaces, never an SDK's), for fast
 * unit tests of the story in lib/worker/answer-mention.ts: the model, the reply, the rollout guards
 * and the assistant thread (the Momento-backed stores are in store-fakes.ts, the context's ports in
 * context-fakes.ts). Each keeps what was done to it, in order, so a test asserts what a user or the
 * next delivery would see.
 */

/** A question as the ingress queues it: a mention at the top of a channel, by default. */
export function answerJob(overrides: Partial<AnswerJob> = {}): AnswerJob {
  return {
    v: 1,
    eventId: 'Ev0QUESTION',
    teamId: 'T0LOCAL',
    channel: 'C0GENERAL',
    threadTs: '1700000000.000100',
    ts: '1700000000.000100',
    user: 'U0ASKER',
    text: '<@UBOT> What is the capital of France?',
    isDm: false,
    botUserId: 'UBOT',
    receivedAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** One request the model received. */
export interface ModelCall {
  messages: ChatMessage[];
  onText: (textSoFar: string) => void;
  signal: AbortSignal | undefined;
  overrides: ChatOverrides | undefined;
  tools: ToolOffer | undefined;
}

/** What the model does on one request: answer (streamed word by word), fail, or act as scripted. */
export type ModelTurn = ChatAnswer | Error | ((call: ModelCall) => Promise<ChatAnswer>);

/**
 * A {@link ChatModel} that plays `turns` in order, one per request: an answer is streamed to
 * `onText` word by word (the whole text so far each time, as the OpenAI adapter does), an error is
 * thrown. A request beyond the script fails the test.
 */
export function scriptedModel(...turns: ModelTurn[]) {
  const calls: ModelCall[] = [];
  const model: ChatModel = {
    async stream(messages, onText, limits, overrides, tools) {
      const call = { messages, onText, signal: limits.signal, overrides, tools };
      calls.push(call);
      const turn = turns.shift();
      if (turn === undefined) throw new Error(`the model was asked ${calls.length} times; not scripted`);
      if (turn instanceof Error) throw turn;
      if (typeof turn === 'function') return turn(call);
      let soFar = '';
      for (const word of turn.text.split(/(?<= )/)) {
        soFar += word;
        onText(soFar);
      }
      return turn;
    },
  };
  return { model, calls };
}

/** What happened to a reply, in order. */
export type ReplyEvent =
  | { kind: 'open' }
  | { kind: 'show'; markdown: string }
  | { kind: 'step'; update: StepUpdate }
  | { kind: 'finish'; markdown: string; notice?: string | undefined; feedback?: boolean | undefined }
  | { kind: 'abandon' };

/** Failures a {@link FakeReply} meets: `open` once, `finish` one per call (in order). */
export interface ReplyFailures {
  open?: Error;
  finish?: Error[];
}

let nextTs = 1;

/**
 * An {@link AnswerReply} on the edit path that keeps what it was asked to show. Its first message
 * is "posted" when it opens (a placeholder, as {@link EditReply} does) and reported through
 * `onMessages`, so the claim records it; a resumed reply keeps its earlier messages.
 */
export class FakeReply implements AnswerReply {
  readonly path = 'edit' as const;
  readonly events: ReplyEvent[] = [];
  writes = 0;
  #messageTs: string[];
  readonly #stop = new AbortController();
  readonly #onMessages: (record: ReplyRecord) => Promise<void>;
  readonly #failures: ReplyFailures;

  constructor(messageTs: readonly string[], context: ReplyContext, failures: ReplyFailures = {}) {
    this.#messageTs = [...messageTs];
    this.#onMessages = context.onMessages;
    this.#failures = { ...failures, finish: [...(failures.finish ?? [])] };
  }

  get messageTs(): readonly string[] {
    return this.#messageTs;
  }

  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  /** The user presses Stop under the answer. */
  pressStop(): void {
    this.#stop.abort(new Error('stopped_by_user'));
  }

  /** The last `finish` call: what the reply ends as. */
  get finished(): Extract<ReplyEvent, { kind: 'finish' }> | undefined {
    return this.events.findLast((e) => e.kind === 'finish') as Extract<ReplyEvent, { kind: 'finish' }>;
  }

  /** The texts shown while the answer was written. */
  get shown(): string[] {
    return this.events.flatMap((e) => (e.kind === 'show' ? [e.markdown] : []));
  }

  async open(): Promise<void> {
    this.events.push({ kind: 'open' });
    if (this.#failures.open) throw this.#failures.open;
    await this.#post();
  }

  show(markdown: string): void {
    this.events.push({ kind: 'show', markdown });
  }

  step(update: StepUpdate): void {
    this.events.push({ kind: 'step', update });
  }

  async finish(markdown: string, options: { notice?: string; feedback?: boolean } = {}): Promise<void> {
    this.events.push({ kind: 'finish', markdown, notice: options.notice, feedback: options.feedback });
    const failure = this.#failures.finish?.shift();
    if (failure) throw failure;
    await this.#post();
    this.writes++;
  }

  async abandon(): Promise<void> {
    this.events.push({ kind: 'abandon' });
  }

  async #post(): Promise<void> {
    if (this.#messageTs.length > 0) return;
    this.#messageTs = [`1700000500.${String(nextTs++).padStart(6, '0')}`];
    this.writes++;
    await this.#onMessages({ path: 'edit', messageTs: [...this.#messageTs] });
  }
}

/** A {@link ReplyOpener} of {@link FakeReply}s; `opened` keeps what each was opened with. */
export function fakeReplies(failures: ReplyFailures = {}) {
  const opened: Array<{ target: ReplyTarget; resume: ReplyResume; reply: FakeReply }> = [];
  const opener: ReplyOpener = {
    async open(target, resume, context) {
      const reply = new FakeReply(resume.previous?.messageTs ?? [], context, failures);
      opened.push({ target, resume, reply });
      return reply;
    },
  };
  return {
    opener,
    opened,
    /** The reply of the last answer (fails the test when none was opened). */
    get reply(): FakeReply {
      const last = opened.at(-1);
      if (!last) throw new Error('no reply was opened');
      return last.reply;
    },
  };
}

/** A {@link Governance} that admits (or refuses) as told and keeps what it was asked. */
export function fakeGovernance(admission: Admission = { allowed: true }) {
  const admitted: Array<{ eventId: string; resumed: boolean }> = [];
  const recorded: Array<ChatAnswer['usage']> = [];
  const released: string[] = [];
  const governance: Governance = {
    async admit(job, { resumed }) {
      admitted.push({ eventId: job.eventId, resumed });
      return admission;
    },
    async record(_job, answer) {
      recorded.push(answer.usage);
    },
    async release(job) {
      released.push(job.eventId);
    },
  };
  return { governance, admitted, recorded, released };
}

/** {@link AssistantThreads} that keeps the titles and prompts set; `refuse` makes Slack refuse them. */
export function fakeAssistant(refuse?: Error) {
  const titles: Array<{ channel: string; threadTs: string; title: string }> = [];
  const prompts: Array<Parameters<AssistantThreads['setSuggestedPrompts']>[0]> = [];
  const assistant: AssistantThreads = {
    async setTitle(input) {
      if (refuse) throw refuse;
      titles.push(input);
    },
    async setSuggestedPrompts(input) {
      if (refuse) throw refuse;
      prompts.push(input);
    },
  };
  return { assistant, titles, prompts };
}
