import type { Logger } from '@aws-lambda-powertools/logger';
import { LlmError } from '../errors';
import type { AnswerReply } from '../reply/answer-reply';
import type { ChatAnswer, ChatModel, ChatOverrides, ToolOffer } from './openai-chat';
import { isImageRefusal } from './openai-chat';
import type { ChatMessage } from './prompt';

/**
 * How streaming the model ended: an answer (possibly stopped by the user; `imagesDropped` when it
 * was asked without the images), or the last failure.
 */
export type StreamOutcome = { answer: ChatAnswer; imagesDropped?: boolean } | { failure: LlmError };

/** What a call of the model needs: the model, its tries and backoff, and the invocation's time. */
export interface ModelCallDeps {
  llm: ChatModel;
  logger: Logger;
  /** Tries within this invocation (part of the per-event cap, lib/llm/model-call-budget.ts). */
  attempts: number;
  backoffMs: number;
  /** Shown after the partial text while another try is on its way (lib/worker/notices.ts). */
  retryingNotice: string;
  /** Time kept for the final writes. */
  reserveMs: number;
  remainingMs: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Streams the model into the reply, trying again within the invocation while the failure is
 * retryable and time allows (each try keeps `reserveMs` of the invocation for the final writes).
 * Between tries the reply shows what came and that another try is on its way. The reply's Stop
 * aborts the stream. `attempts` is part of the per-event cap on model requests
 * (lib/llm/model-call-budget.ts). When the model refuses an image and `withoutImages` is given,
 * the next attempt, at once, sends those messages instead (the images named), once.
 * @throws whatever is not an {@link LlmError} (a bug, or the reply failing).
 */
export async function streamModel(
  input: {
    messages: ChatMessage[];
    reply: AnswerReply;
    overrides?: ChatOverrides | undefined;
    /** Functions the model may call this time (lib/tools runs them). */
    tools?: ToolOffer | undefined;
    /** The same messages with the images named instead of sent (lib/context). */
    withoutImages?: ChatMessage[] | undefined;
  },
  deps: ModelCallDeps,
): Promise<StreamOutcome> {
  const { reply } = input;
  let messages = input.messages;
  let failure: LlmError | undefined;
  for (let attempt = 1; attempt <= deps.attempts; attempt++) {
    try {
      const deadlineMs = deps.remainingMs() - deps.reserveMs;
      if (deadlineMs <= 0) throw new LlmError('no time left in this invocation', { retryable: true });
      const answer = await deps.llm.stream(
        messages,
        (soFar) => reply.show(soFar),
        { deadlineMs, signal: reply.stopped },
        input.overrides,
        input.tools,
      );
      return messages === input.messages ? { answer } : { answer, imagesDropped: true };
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      failure = error;
      deps.logger.warn('model call failed', {
        attempt,
        retryable: error.retryable,
        status: error.status,
        error,
      });
      const refusedImage = input.withoutImages && messages !== input.withoutImages && isImageRefusal(error);
      if (refusedImage && attempt < deps.attempts) {
        deps.logger.warn('the model refused an attached image; asking again without the images', { attempt });
        messages = input.withoutImages!;
        continue;
      }
      const backoffMs = deps.backoffMs * 2 ** (attempt - 1);
      if (!error.retryable || attempt === deps.attempts || deps.remainingMs() < deps.reserveMs + backoffMs)
        break;
      if (error.partialText) reply.show(`${error.partialText}\n\n${deps.retryingNotice}`);
      await deps.sleep(backoffMs);
    }
  }
  return { failure: failure ?? new LlmError('the model was not asked', { retryable: true }) };
}
