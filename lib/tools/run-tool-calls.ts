import type { Logger } from '@aws-lambda-powertools/logger';
import { cutToTokens } from '../llm/cut-to-tokens';
import type { ChatMessage, TokenCounter, ToolCall } from '../llm/prompt';
import type { AnswerReply } from '../reply/answer-reply';
import { failed, type Tool, type ToolOutcome } from './tool';
import { fenceUntrusted } from './untrusted';

/** A lookup that takes longer is stopped (read_link's own limit is the same). */
const TOOL_TIMEOUT_MS = 10_000;

/** What one call left: its `tool` message for the model and its trace for memory. */
interface ToolCallResult {
  message: ChatMessage;
  /** e.g. `searched Slack: deploy freeze`; absent for a call of no known tool. */
  trace?: string;
}

/** Slack shows a card's sources as links; a handful is enough. */
const MAX_SOURCES = 10;
/** Slack's documented limit for a task card's `details` and `output` (see lib/reply). */
const STEP_TEXT_LIMIT = 256;
/** Titles stay short: one line on a phone. */
const STEP_TITLE_LIMIT = 80;

/**
 * Runs one round's tool calls in parallel, each as a step of the reply (`in_progress`, then
 * `complete` or `error`), each bounded by {@link TOOL_TIMEOUT_MS}, the round's `deadline` and the
 * reply's Stop: the call's signal aborts its requests, and the round never waits past the bound even
 * for a tool that ignored its signal. A call that fails is an `error` step and a result saying so; the
 * answer goes on. Results are cut to `resultTokens` with a marker and fenced as untrusted data.
 * Logs carry tool names, lengths and times, never arguments or results.
 */
export async function runToolCalls(
  calls: readonly ToolCall[],
  round: number,
  ports: {
    tools: readonly Tool[];
    reply: AnswerReply;
    logger: Logger;
    /** Epoch ms by which every call of the round must have returned. */
    deadline: number;
    countTokens: () => Promise<TokenCounter>;
    resultTokens: number;
  },
): Promise<ToolCallResult[]> {
  return Promise.all(calls.map((call, index) => runOne(call, `r${round}-${index + 1}`, ports)));
}

async function runOne(
  call: ToolCall,
  stepId: string,
  ports: Parameters<typeof runToolCalls>[2],
): Promise<ToolCallResult> {
  const { reply, logger } = ports;
  const started = performance.now();
  const tool = ports.tools.find((t) => t.name === call.name);
  const answer = (content: string): ChatMessage => ({ role: 'tool', toolCallId: call.id, content });
  if (!tool) {
    logger.warn('the model called a tool that is not offered', { toolChars: call.name.length });
    return { message: answer(`There is no tool named ${JSON.stringify(call.name.slice(0, 64))}.`) };
  }
  let args: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(call.arguments || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    args = parsed as Record<string, unknown>;
  } catch {
    logger.warn('tool arguments are not a JSON object', {
      tool: tool.name,
      argsChars: call.arguments.length,
    });
    return {
      message: answer('The arguments were not a JSON object; call the tool again with valid JSON.'),
      trace: `${tool.name} (bad arguments)`,
    };
  }
  const title = clip(tool.title(args), STEP_TITLE_LIMIT);
  reply.step({ id: stepId, title, status: 'in_progress' });

  const ms = Math.max(0, Math.min(TOOL_TIMEOUT_MS, ports.deadline - Date.now()));
  const abort = new AbortController();
  const stop = () => abort.abort(new Error('stopped'));
  if (reply.stopped.aborted) stop();
  reply.stopped.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(() => abort.abort(new Error('timeout')), ms);
  let outcome: ToolOutcome;
  try {
    outcome = await Promise.race([
      tool.run(args, { signal: abort.signal, deadline: Date.now() + ms, logger }),
      new Promise<never>((_, reject) => {
        const fail = () => reject(abort.signal.reason);
        if (abort.signal.aborted) fail();
        else abort.signal.addEventListener('abort', fail, { once: true });
      }),
    ]);
  } catch (error) {
    outcome = endedWithout(abort.signal, error, tool.name, logger);
  } finally {
    clearTimeout(timer);
    reply.stopped.removeEventListener('abort', stop);
  }
  const sources = (outcome.sources ?? [])
    .slice(0, MAX_SOURCES)
    .map((s) => ({ url: s.url, text: clip(s.text, STEP_TEXT_LIMIT) }));
  reply.step({
    id: stepId,
    title,
    status: outcome.ok ? 'complete' : 'error',
    output: clip(outcome.output, STEP_TEXT_LIMIT),
    ...(sources.length ? { sources } : {}),
  });
  const content = await cutToTokens(outcome.content, ports.resultTokens, ports.countTokens);
  logger.info('tool call', {
    tool: tool.name,
    ok: outcome.ok,
    argsChars: call.arguments.length,
    resultChars: outcome.content.length,
    sentChars: content.length,
    sources: outcome.sources?.length ?? 0,
    ms: Math.round(performance.now() - started),
  });
  const trace = tool.trace(args) + (outcome.ok ? '' : ' (failed)');
  return { message: answer(fenceUntrusted(tool.name, content)), trace };
}

/** Why a call ended without an outcome: Stop, its time, or a bug in the tool. */
function endedWithout(signal: AbortSignal, error: unknown, tool: string, logger: Logger): ToolOutcome {
  const why = signal.aborted ? (signal.reason as Error)?.message : undefined;
  if (why === 'stopped') return failed('The user stopped the answer.', 'Stopped');
  if (why === 'timeout') {
    logger.warn('a tool call ran out of time', { tool });
    return failed(
      'The lookup took too long and was stopped. Answer without it, and say so.',
      'Took too long; stopped',
    );
  }
  // Only the error's name: its message may quote what the tool read.
  logger.error('a tool call failed', { tool, errorName: (error as Error)?.name ?? typeof error });
  return failed('The lookup failed. Answer without it, and say so.', 'Failed');
}

/** `text` cut to `max` characters with an ellipsis, never inside a surrogate pair. */
function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  let end = max - 1;
  const code = flat.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${flat.slice(0, end)}…`;
}
