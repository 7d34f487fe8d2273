import type { SuggestedPrompt } from '../config';
import { SlackCallError } from '../errors';
import type { Logger } from '../logger';
import type { PromptsJob } from '../queue/job';
import type { AssistantThreads } from '../slack/assistant-threads';

/** What {@link suggestPrompts} needs. */
export interface SuggestPromptsDeps {
  assistant: AssistantThreads;
  /** `SUGGESTED_PROMPTS`, validated: 1 to 4. */
  prompts: SuggestedPrompt[];
  logger: Logger;
}

/** How a prompts job ended. */
export type PromptsOutcome = 'set' | 'refused';

/**
 * A user opened the bot's assistant thread or agent conversation: show the suggested prompts.
 * Nothing is posted. Prompts are a nicety: a refusal Slack sends back (no `assistant:write`, the
 * feature off, a rate limit) is logged at WARN and the job completes, so it is never retried into
 * a thread the user may have left. Anything else (a network error) is thrown for the queue to retry.
 * https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
 */
export async function suggestPrompts(job: PromptsJob, deps: SuggestPromptsDeps): Promise<PromptsOutcome> {
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
    return 'refused';
  }
  logger.info('suggested prompts set', {
    prompts: deps.prompts.length,
    view: job.threadTs ? 'assistant' : 'agent',
  });
  return 'set';
}
