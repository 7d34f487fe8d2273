import { LlmError, ToolsRefusedError } from '../errors';
import { DEFAULT_AGENT_MAX_STEPS } from '../llm/model-call-budget';
import type { ChatAnswer, ChatModel, ChatOverrides, ToolOffer } from '../llm/openai-chat';
import type { ChatMessage, ToolCall } from '../llm/prompt';
import { type ModelCallDeps, type StreamOutcome, streamModel } from '../llm/stream-model';
import type { AnswerReply } from '../reply/answer-reply';
import { runToolCalls } from './run-tool-calls';
import type { Tool } from './tool';
import type { ToolPorts } from './tools-for-answer';
import { TOOLS_SYSTEM_NOTE } from './untrusted';

/** How the loop ended: as {@link StreamOutcome}, with the one-line traces of the tools it used. */
export type AgentOutcome = StreamOutcome & { trace: string[] };

/** What the loop uses of the tools' ports. */
type LoopPorts = Pick<ToolPorts, 'countTokens' | 'resultTokens' | 'model' | 'availability'> & {
  settings?: Pick<ToolPorts['settings'], 'maxSteps'>;
};

/**
 * Tool calls of one answer, over all its rounds: Slack's thinking steps read best in a handful;
 * OpenAI's parallel calls rarely pass 3.
 */
const MAX_TOOL_CALLS_PER_ANSWER = 8;
/** Kept for the model's answer after a round of tools; less than this left, no more tools. */
const ANSWER_TIME_MS = 10_000;

/**
 * Answers with tools: streams the model into the reply; when it asks for tools, runs the calls of
 * that round in parallel (each bounded by its own time and the time left), gives their fenced
 * results back as `tool` messages and asks again, at most `maxSteps` calls in all (the last one
 * asked for text only, `tool_choice: none`) and {@link MAX_TOOL_CALLS_PER_ANSWER} tool calls. Every
 * model call is a call of {@link streamModel}: the invocation's deadline and reserve hold for each,
 * Stop aborts the model and every running tool call, and retries of a failed call come from one
 * budget for the whole loop (lib/llm/model-call-budget.ts). Usage is summed over the calls.
 *
 * A server that refuses `tools` (a 400 about them) is answered without tools at once, and
 * `availability` remembers it. Without tools this is exactly one {@link streamModel}.
 *
 * The text of every round is shown in order; a round's text before its tool calls stays shown.
 */
export async function runAgent(
  input: {
    messages: ChatMessage[];
    reply: AnswerReply;
    overrides?: ChatOverrides | undefined;
    tools: readonly Tool[];
    /** `messages` with the images named instead of sent: used from the round the model refuses one. */
    withoutImages?: ChatMessage[] | undefined;
  },
  deps: ModelCallDeps & {
    /**
     * What `tools` were built from (lib/tools/tools-for-answer.ts); `settings.maxSteps` is
     * `AGENT_MAX_STEPS`, model calls that make one answer (the last one asked for text only).
     */
    toolPorts?: LoopPorts | undefined;
  },
): Promise<AgentOutcome> {
  const { logger } = deps;
  const { reply } = input;
  // Without ports there are no tools: no result is ever counted.
  const {
    countTokens = () => Promise.resolve((text: string) => Buffer.byteLength(text)),
    resultTokens = 1_000,
    availability,
    settings,
  } = deps.toolPorts ?? {};
  const maxSteps = settings?.maxSteps ?? DEFAULT_AGENT_MAX_STEPS;
  // The model the calls go to (for remembering a refusal of `tools`).
  const model = input.overrides?.model ?? deps.toolPorts?.model ?? '';
  let tools = [...input.tools];
  const opening = (base: ChatMessage[]) => (tools.length > 0 ? withToolsNote(base) : [...base]);
  const messages = opening(input.messages);
  let imagesDropped = false;
  const trace: string[] = [];
  let shown = '';
  let usage: Usage = { promptTokens: 0, completionTokens: 0 };
  let calls = 0;
  let modelCalls = 0;
  let succeeded = 0;
  let toolRounds = 0;
  // Every request of the loop, retries included, goes through this count: a failed call may be
  // tried again `attempts - 1` times in the whole loop, not per round.
  const llm: ChatModel = {
    stream: (...args) => {
      modelCalls++;
      return deps.llm.stream(...args);
    },
  };
  const attemptsLeft = () => Math.max(1, deps.attempts - (modelCalls - succeeded));
  const result = (answer: ChatAnswer): AgentOutcome => ({
    answer: { ...answer, text: join(shown, answer.text), usage: add(usage, answer.usage) },
    trace,
  });

  for (let step = 1; ; step++) {
    const timeForTools = deps.remainingMs() - deps.reserveMs - ANSWER_TIME_MS;
    const mayCall =
      tools.length > 0 && step < maxSteps && calls < MAX_TOOL_CALLS_PER_ANSWER && timeForTools > 0;
    // After a round of tools the conversation holds tool calls: keep `tools`, ask for text only.
    const offer: ToolOffer | undefined = mayCall
      ? { specs: tools }
      : toolRounds > 0
        ? { specs: tools, choice: 'none' }
        : undefined;
    // The same conversation with the images named, should the model refuse one of them.
    const withoutImages =
      input.withoutImages && !imagesDropped
        ? [...opening(input.withoutImages), ...messages.slice(input.messages.length)]
        : undefined;
    const streamed = await streamModel(
      { messages, withoutImages, reply: continuing(reply, shown), overrides: input.overrides, tools: offer },
      { ...deps, llm, attempts: attemptsLeft() },
    );
    if ('answer' in streamed && streamed.imagesDropped && input.withoutImages) {
      // The model refused an image: the rounds after this one are asked without the images too.
      imagesDropped = true;
      messages.splice(0, input.messages.length, ...opening(input.withoutImages));
    }
    if ('failure' in streamed) {
      const error = streamed.failure;
      if (error instanceof ToolsRefusedError && toolRounds === 0) {
        logger.warn('the model API refused tools; answering without them', { model });
        await availability?.markOff(model).catch(() => undefined);
        tools = [];
        messages.splice(0, messages.length, ...((imagesDropped && input.withoutImages) || input.messages));
        if (modelCalls - succeeded < deps.attempts) continue;
      }
      const partial = join(shown, error.partialText);
      return { failure: partial === error.partialText ? error : withPartial(error, partial), trace };
    }
    succeeded++;
    const answer = streamed.answer;
    if (!mayCall || answer.finishReason === 'stopped' || !answer.toolCalls?.length) return result(answer);
    // A round of tools: keep what the model wrote before them, run the calls, ask again.
    toolRounds++;
    usage = add(usage, answer.usage);
    shown = join(shown, answer.text);
    messages.push({ role: 'assistant', content: answer.text, toolCalls: answer.toolCalls });
    const allowed = answer.toolCalls.slice(0, MAX_TOOL_CALLS_PER_ANSWER - calls);
    calls += allowed.length;
    const results = await runToolCalls(allowed, step, {
      tools,
      reply,
      logger,
      deadline: Date.now() + Math.max(0, timeForTools),
      countTokens,
      resultTokens,
    });
    trace.push(...results.flatMap((r) => (r.trace ? [r.trace] : [])));
    messages.push(...results.map((r) => r.message));
    messages.push(...answer.toolCalls.slice(allowed.length).map(overLimit));
    if (reply.stopped.aborted) return result({ text: '', finishReason: 'stopped' });
  }
}

/** The system prompt, with what tools and their fenced results are. */
function withToolsNote(messages: ChatMessage[]): ChatMessage[] {
  const [first, ...rest] = messages;
  if (first?.role !== 'system' || typeof first.content !== 'string') return [...messages];
  return [{ role: 'system', content: `${first.content}\n\n${TOOLS_SYSTEM_NOTE}` }, ...rest];
}

/** A call past the per-answer limit still needs its `tool` message (every call id is answered). */
function overLimit(call: ToolCall): ChatMessage {
  return {
    role: 'tool',
    toolCallId: call.id,
    content:
      `Not run: this answer already used its ${MAX_TOOL_CALLS_PER_ANSWER} tool calls. Answer with ` +
      `what you have.`,
  };
}

/** The reply, showing `before` (earlier rounds' text) ahead of what the current call writes. */
function continuing(reply: AnswerReply, before: string): AnswerReply {
  if (before === '') return reply;
  return new Proxy(reply, {
    get(target, key, receiver) {
      if (key === 'show') return (markdown: string) => target.show(join(before, markdown));
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function join(before: string, after: string): string {
  if (before.trim() === '') return after;
  if (after.trim() === '') return before;
  return `${before}\n\n${after}`;
}

type Usage = NonNullable<ChatAnswer['usage']>;

function add(a: Usage, b: ChatAnswer['usage']): Usage {
  return {
    promptTokens: a.promptTokens + (b?.promptTokens ?? 0),
    completionTokens: a.completionTokens + (b?.completionTokens ?? 0),
  };
}

/** The same failure, with the text of earlier rounds in front of what the failed call wrote. */
function withPartial(error: LlmError, partialText: string): LlmError {
  return new LlmError(
    error.message,
    {
      retryable: error.retryable,
      ...(error.status !== undefined ? { status: error.status } : {}),
      partialText,
    },
    { cause: error },
  );
}
