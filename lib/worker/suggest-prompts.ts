import type { SuggestedPrompt } from '../config';
import { SlackCallError } from '../errors';
import type { Logger } from '../logger';
import type { PromptsJob } from '../queue/job';
import type { AssistantThreads } from '../slack/assistant-threads';

/**
 * A user opened the bot's assistant thread or agent conversation: show the suggested prompts
 * (`SUGGESTED_PROMPTS`, 1 to 4). Nothing is posted. Prompts are a nicety: a refusal Slack sends back (no `assistant:write`, the
 * feature off, a rate limit) is logged at WARN and the job completes, so it is never retried into
 * a thread the user may have left. Anything else (a network error) is thrown for the queue to retry.
 * https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
 */
export async function suggestPrompts(
  job: PromptsJob,
  deps: { assistant: AssistantThreads; prompts: SuggestedPrompt[]; logger: Logger },
): Promise<void> {
  const { logger } = deps;
  try {
    await deps.assistant.setSuggestedPrompts({
      channel: job.channel,
      threadTs: job.threadTs,
      prompts: deps.prompts,
    });
  } catch (error) {
    if (!(error instanceof SlackCallError) || (error.retryable && error.slackError !== 'ratelimited'))
      throw error;
    logger.warn('Slack refused the suggested prompts; nothing more to do', {
      method: error.method,
      slackError: error.slackError,
    });
    return;
  }
  logger.info('suggested prompts set', {
    prompts: deps.prompts.length,
    view: job.threadTs ? 'assistant' : 'agent',
  });
}
