import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '../logger';
import { recordModelStream } from '../metrics';
import type { ChatModel } from './openai-chat';
import { messageTokens, type TokenCounter } from './prompt';

/** OpenAI's chat format primes the reply with 3 tokens (see prompt.ts). */
const REPLY_PRIMING_TOKENS = 3;

/**
 * A {@link ChatModel} that measures each stream (time to first token, time to complete, tokens)
 * as EMF metrics and always returns `usage`: when a compatible server sends no usage chunk, the
 * tokens are estimated with the o200k tokenizer (the quota still counts). Failed streams record
 * their time too; their tokens are unknown.
 */
export function measuredChatModel(
  inner: ChatModel,
  ports: { metrics: Metrics; countTokens: () => Promise<TokenCounter>; logger: Logger },
): ChatModel {
  return {
    async stream(messages, onText, limits, overrides, tools) {
      const started = performance.now();
      let firstTokenMs: number | undefined;
      const observe = (soFar: string) => {
        firstTokenMs ??= performance.now() - started;
        onText(soFar);
      };
      try {
        const answer = await inner.stream(messages, observe, limits, overrides, tools);
        let usage = answer.usage;
        if (!usage) {
          const count = await ports.countTokens();
          usage = {
            promptTokens:
              REPLY_PRIMING_TOKENS + messages.reduce((sum, m) => sum + messageTokens(m, count), 0),
            completionTokens: count(
              answer.text + (answer.toolCalls ?? []).map((c) => c.name + c.arguments).join(''),
            ),
          };
          ports.logger.debug('the model sent no usage; tokens estimated', { ...usage });
        }
        recordModelStream(ports.metrics, { firstTokenMs, completeMs: performance.now() - started, ...usage });
        return { ...answer, usage };
      } catch (error) {
        recordModelStream(ports.metrics, { firstTokenMs, completeMs: performance.now() - started });
        throw error;
      }
    },
  };
}
