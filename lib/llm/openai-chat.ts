import OpenAI from 'openai';
import { LlmError } from '../errors';
import type { ChatMessage } from './prompt';

/** The finished answer. */
export interface ChatAnswer {
  text: string;
  /** `stop`, or `length` when the model hit its output limit. */
  finishReason: string;
}

/** A chat model that streams its answer. */
export interface ChatModel {
  /**
   * Streams an answer; `onText` receives the whole text so far after each new piece.
   * @throws {LlmError} sorted into retryable (429, 5xx, connection, broken stream) and not.
   */
  stream(messages: ChatMessage[], onText: (textSoFar: string) => void): Promise<ChatAnswer>;
}

/**
 * OpenAI's Chat Completions API (or any compatible server) as a {@link ChatModel}.
 * SSE stream of `chat.completion.chunk`s (https://platform.openai.com/docs/api-reference/chat-streaming).
 * The client's own retries (`maxRetries`) cover failures before the stream starts.
 */
export function openAiChat(client: OpenAI, options: { model: string; temperature: number }): ChatModel {
  return {
    async stream(messages, onText) {
      let text = '';
      let finishReason = '';
      try {
        const stream = await client.chat.completions.create({
          model: options.model,
          temperature: options.temperature,
          messages,
          stream: true,
        });
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          const piece = choice?.delta?.content;
          if (piece) {
            text += piece;
            onText(text);
          }
          if (choice?.finish_reason) finishReason = choice.finish_reason;
        }
      } catch (cause) {
        throw toLlmError(cause, text);
      }
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
      return { text, finishReason };
    },
  };
}

/** Sorts what the OpenAI SDK throws. */
function toLlmError(cause: unknown, partialText: string): LlmError {
  if (cause instanceof LlmError) return cause;
  if (cause instanceof OpenAI.APIConnectionError) {
    return new LlmError(
      `connection to the model failed: ${cause.message}`,
      { retryable: true, partialText },
      { cause },
    );
  }
  if (cause instanceof OpenAI.APIError) {
    const status = cause.status;
    // No status: an error frame inside the stream. 408/409/429/5xx: the API says try again.
    const retryable =
      status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
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
