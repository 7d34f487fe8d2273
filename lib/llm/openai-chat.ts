import OpenAI from 'openai';
import { LlmError, ToolsRefusedError } from '../errors';
import type { ChatMessage, ToolCall } from './prompt';

/** The finished answer. */
export interface ChatAnswer {
  text: string;
  /**
   * `stop`; `length` when the model hit its output limit; `stopped` when `limits.signal` aborted
   * the stream (the user pressed Stop): `text` is then what came until then.
   */
  finishReason: string;
  /**
   * Tokens as the API reported them (`stream_options.include_usage`); absent when a compatible
   * server sends no usage chunk.
   */
  usage?: { promptTokens: number; completionTokens: number };
  /** The functions the model asked to call (`finishReason` is then `tool_calls`), in its order. */
  toolCalls?: ToolCall[];
}

/**
 * The tools offered on one request, as OpenAI's `tools` take them (`parameters`: a JSON Schema
 * object, https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools);
 * `choice: 'none'` makes the model answer in text.
 */
export interface ToolOffer {
  specs: Array<{ name: string; description: string; parameters: Record<string, unknown> }>;
  choice?: 'auto' | 'none';
}

/** Per-request choices that override the deployment's defaults (per-channel settings). */
export interface ChatOverrides {
  model?: string;
  temperature?: number;
}

/** A chat model that streams its answer. */
export interface ChatModel {
  /**
   * Streams an answer; `onText` receives the whole text so far after each new piece.
   * @param limits `deadlineMs`: give up this many milliseconds from now, whole stream included;
   *   `signal`: abort at once (no more tokens are paid for) and return the text so far with
   *   `finishReason: 'stopped'`. A stream silent for {@link IDLE_MS} is given up too.
   * @param tools functions the model may call; their calls come back in `toolCalls`.
   * @throws {LlmError} sorted into retryable (429, 5xx, connection, broken or stalled stream) and not;
   *   {@link ToolsRefusedError} when the server refuses `tools`.
   */
  stream(
    messages: ChatMessage[],
    onText: (textSoFar: string) => void,
    limits: { deadlineMs: number; signal?: AbortSignal },
    overrides?: ChatOverrides,
    tools?: ToolOffer,
  ): Promise<ChatAnswer>;
}

/** A stream that sends nothing for this long is taken as stalled. */
const IDLE_MS = 60_000;

/**
 * OpenAI's Chat Completions API (or any compatible server) as a {@link ChatModel}.
 * SSE stream of `chat.completion.chunk`s (https://platform.openai.com/docs/api-reference/chat-streaming).
 * The client's own retries (`maxRetries`) cover failures before the stream starts.
 */
export function openAiChat(client: OpenAI, options: { model: string; temperature: number }): ChatModel {
  return {
    async stream(messages, onText, limits, overrides = {}, tools) {
      let text = '';
      let finishReason = '';
      let usage: ChatAnswer['usage'];
      // Tool-call deltas come in pieces keyed by `index`: id and name first, arguments in fragments.
      // https://platform.openai.com/docs/guides/function-calling#streaming
      const calls: ToolCall[] = [];
      // The SDK's `timeout` covers only the wait for response headers; this bounds the whole
      // stream, so the invocation ends with time left to tell the user instead of being killed.
      const abort = new AbortController();
      const stop = () => abort.abort(new Error('stopped'));
      const abortedBy = () => (abort.signal.reason as Error | undefined)?.message;
      if (limits.signal?.aborted) return { text, finishReason: 'stopped' };
      limits.signal?.addEventListener('abort', stop, { once: true });
      const deadline = setTimeout(() => abort.abort(new Error('deadline')), Math.max(0, limits.deadlineMs));
      let idle: NodeJS.Timeout | undefined;
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => abort.abort(new Error('stalled')), IDLE_MS);
      };
      try {
        armIdle();
        const stream = await client.chat.completions.create(
          {
            model: overrides.model ?? options.model,
            temperature: overrides.temperature ?? options.temperature,
            messages: messages.map(toOpenAiMessage),
            ...(tools?.specs.length
              ? {
                  tools: tools.specs.map((t) => ({
                    type: 'function' as const,
                    function: { name: t.name, description: t.description, parameters: t.parameters },
                  })),
                  ...(tools.choice ? { tool_choice: tools.choice } : {}),
                }
              : {}),
            stream: true,
            // A last chunk with `choices: []` and the request's `usage` (tokens counted against the
            // daily quota):
            // https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options
            stream_options: { include_usage: true },
          },
          { signal: abort.signal },
        );
        for await (const chunk of stream) {
          armIdle();
          const choice = chunk.choices[0];
          const piece = choice?.delta?.content;
          if (piece) {
            text += piece;
            onText(text);
          }
          for (const delta of choice?.delta?.tool_calls ?? []) {
            calls[delta.index] ??= { id: '', name: '', arguments: '' };
            const call = calls[delta.index]!;
            if (delta.id) call.id = delta.id;
            if (delta.function?.name) call.name += delta.function.name;
            if (delta.function?.arguments) call.arguments += delta.function.arguments;
          }
          if (choice?.finish_reason) finishReason = choice.finish_reason;
          if (chunk.usage) {
            usage = {
              promptTokens: chunk.usage.prompt_tokens,
              completionTokens: chunk.usage.completion_tokens,
            };
          }
        }
      } catch (cause) {
        const why = abortedBy();
        if (why === 'stopped') return { text, finishReason: 'stopped' };
        if (why) {
          const what = why === 'stalled' ? 'stalled' : 'ran out of time';
          throw new LlmError(`the model stream ${what}`, { retryable: true, partialText: text }, { cause });
        }
        throw toLlmError(cause, text, Boolean(tools?.specs.length));
      } finally {
        clearTimeout(deadline);
        clearTimeout(idle);
        limits.signal?.removeEventListener('abort', stop);
      }
      if (abortedBy() === 'stopped') return { text, finishReason: 'stopped' };
      if (finishReason === 'content_filter') {
        throw new LlmError('the answer was stopped by the content filter', {
          retryable: false,
          partialText: text,
        });
      }
      if (!finishReason) {
        // The stream ended without a finish reason: it was cut, so the text is not an answer.
        throw new LlmError('the stream ended before the answer was finished', {
          retryable: true,
          partialText: text,
        });
      }
      const toolCalls = calls.filter((c) => c.name !== '');
      return {
        text,
        finishReason,
        ...(usage ? { usage } : {}),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
      };
    },
  };
}

/** Our message → OpenAI's: tool calls on assistant turns, `tool_call_id` on their results. */
function toOpenAiMessage(m: ChatMessage): OpenAI.ChatCompletionMessageParam {
  if (m.role === 'tool') {
    return { role: 'tool', tool_call_id: m.toolCallId ?? '', content: m.content as string };
  }
  if (m.role === 'assistant' && m.toolCalls?.length) {
    return {
      role: 'assistant',
      content: (m.content as string) || null,
      tool_calls: m.toolCalls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  }
  // Image parts only ever come on user messages (lib/context builds them).
  return { role: m.role, content: m.content } as OpenAI.ChatCompletionMessageParam;
}

/**
 * A 400 that names tools or function calling, on a request that offered tools: the server (an
 * OpenAI-compatible one, e.g. a model without tool support on Ollama, or vLLM without
 * `--enable-auto-tool-choice`) does not take `tools`.
 */
const TOOLS_REFUSAL = /\btools?\b|tool[_ ]choice|function[_ ]call/i;

/** Sorts what the OpenAI SDK throws. */
function toLlmError(cause: unknown, partialText: string, offeredTools: boolean): LlmError {
  if (offeredTools && cause instanceof OpenAI.BadRequestError && TOOLS_REFUSAL.test(cause.message)) {
    return new ToolsRefusedError(`the model API refused tools: ${cause.message}`, { cause });
  }
  if (cause instanceof OpenAI.APIConnectionError) {
    return new LlmError(
      `connection to the model failed: ${cause.message}`,
      { retryable: true, partialText },
      { cause },
    );
  }
  if (cause instanceof OpenAI.APIError) {
    const status = cause.status;
    // No status: an error frame inside the stream. 408/409/429/5xx: the API says try again,
    // except a 429 for an exhausted quota (billing), which no retry fixes.
    // https://platform.openai.com/docs/guides/error-codes/api-errors
    const quota = cause.code === 'insufficient_quota';
    const retryable =
      !quota && (status === undefined || status === 408 || status === 409 || status === 429 || status >= 500);
    return new LlmError(
      `model API error${status ? ` ${status}` : ''}: ${cause.message}`,
      { retryable, ...(status !== undefined ? { status } : {}), partialText },
      { cause },
    );
  }
  // e.g. `TypeError: terminated` when the socket drops mid-stream.
  return new LlmError(
    `the model stream broke: ${(cause as Error)?.message ?? cause}`,
    { retryable: true, partialText },
    { cause },
  );
}

/**
 * Whether the model refused the request because of an image in it. OpenAI answers such a request
 * with HTTP 400 `invalid_request_error` and a code or message about the image:
 * `invalid_image_format` ("You uploaded an unsupported image…",
 * https://github.com/STranslate/STranslate/issues/277), `invalid_base64` ("Invalid base64
 * image_url.", https://github.com/Azure/azure-sdk-for-java/issues/41670), or `invalid_value` with
 * `param` naming `…image_url…` (https://github.com/openai/openai-python/issues/1483). The whole
 * request fails for one image: asking again without the images can answer the question.
 */
export function isImageRefusal(error: LlmError): boolean {
  const cause = error.cause;
  if (error.status !== 400 || !(cause instanceof OpenAI.APIError)) return false;
  return (
    /image/i.test(`${cause.code ?? ''} ${cause.param ?? ''}`) ||
    cause.code === 'invalid_base64' ||
    /\bimage/i.test(cause.message)
  );
}
