import type { WebClient } from '@slack/web-api';
import type { SuggestedPrompt } from '../config';
import { SlackCallError } from '../errors';
import type { Logger } from '../logger';
import { call } from './web-api-call';

/**
 * Slack's assistant thread methods the worker uses besides the reply itself. Both need the
 * `assistant:write` bot scope and are Tier 4.
 * https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
 * https://docs.slack.dev/reference/methods/assistant.threads.setTitle
 */
export interface AssistantThreads {
  /**
   * Shows up to four prompts in the user's assistant thread or agent conversation.
   * `threadTs` only for the assistant view: on the agent view a call with `thread_ts` silently
   * does nothing.
   * @throws {SlackCallError} when Slack refuses.
   */
  setSuggestedPrompts(input: {
    channel: string;
    threadTs?: string | undefined;
    prompts: SuggestedPrompt[];
  }): Promise<void>;
  /** @throws {SlackCallError} when Slack refuses. */
  setTitle(input: { channel: string; threadTs: string; title: string }): Promise<void>;
}

/** The Web API as {@link AssistantThreads}; the client is the worker's one `WebClient`. */
export function slackAssistantThreads(client: WebClient): AssistantThreads {
  return {
    async setSuggestedPrompts({ channel, threadTs, prompts }) {
      await call('assistant.threads.setSuggestedPrompts', () =>
        // The SDK's type still lists `thread_ts` as required; Slack's method page makes it optional.
        client.assistant.threads.setSuggestedPrompts({
          channel_id: channel,
          prompts,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        } as Parameters<WebClient['assistant']['threads']['setSuggestedPrompts']>[0]),
      );
    },
    async setTitle({ channel, threadTs, title }) {
      await call('assistant.threads.setTitle', () =>
        client.assistant.threads.setTitle({ channel_id: channel, thread_ts: threadTs, title }),
      );
    },
  };
}

/** Thread titles are short; the first question is cut at a word near this length. */
const MAX_THREAD_TITLE_CHARS = 60;

/** A short thread title from the first question: one line, at most {@link MAX_THREAD_TITLE_CHARS}. */
function threadTitleFrom(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  if (line.length <= MAX_THREAD_TITLE_CHARS) return line;
  const cut = line.slice(0, MAX_THREAD_TITLE_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_THREAD_TITLE_CHARS / 2 ? cut.slice(0, space) : cut}…`;
}

/**
 * Best effort: titles the user's DM assistant thread from its first question
 * (`assistant.threads.setTitle`). A refusal (no `assistant:write`, not an assistant thread, rate
 * limited) is logged at WARN with its Slack error and never fails the answer. Logs no text.
 * @returns whether Slack took the title.
 */
export async function setThreadTitle(
  assistant: AssistantThreads,
  input: { channel: string; threadTs: string; question: string },
  logger: Logger,
): Promise<boolean> {
  const title = threadTitleFrom(input.question);
  if (title === '') return false;
  try {
    await assistant.setTitle({ channel: input.channel, threadTs: input.threadTs, title });
    return true;
  } catch (error) {
    if (!(error instanceof SlackCallError)) throw error;
    logger.warn('could not set the thread title; the answer goes on', {
      method: error.method,
      slackError: error.slackError,
      titleChars: title.length,
    });
    return false;
  }
}
