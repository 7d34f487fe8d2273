import type { Logger } from '@aws-lambda-powertools/logger';
import { HistoryUnavailableError, LlmError, RetryLaterError } from '../errors';
import type { Claim, ClaimState, EventClaims } from '../history/event-claims';
import type { ThreadHistory, ThreadKey } from '../history/thread-history';
import type { ChatAnswer, ChatModel } from '../llm/openai-chat';
import { buildPrompt, stripBotMention, type TokenCounter, type Turn } from '../llm/prompt';
import type { AnswerJob } from '../queue/job';
import { LiveReply } from '../slack/live-reply';
import type { ReplySurface } from '../slack/reply-surface';

/** What the user sees before the model's first token. */
export const PLACEHOLDER = '_Thinking…_';
export const RETRYING_NOTICE =
  ':hourglass_flowing_sand: _The model is having trouble; I will try again in a moment._';
export const GAVE_UP_NOTICE =
  ':warning: _Sorry, I could not get an answer from the model after several tries. Please ask again later._';
export const INTERRUPTED_NOTICE = ':warning: _This answer was interrupted before it finished._';
export const EMPTY_QUESTION_REPLY = 'Hi! Mention me with a question and I will answer in this thread.';

/** The ports and settings `answerMention` works with. */
export interface AnswerDeps {
  surface: ReplySurface;
  llm: ChatModel;
  history: ThreadHistory;
  claims: EventClaims;
  countTokens: () => Promise<TokenCounter>;
  logger: Logger;
  settings: {
    systemPrompt: string;
    historyTokenBudget: number;
    updateIntervalMs: number;
    botUserId?: string | undefined;
    /** Tries of the model within one invocation (the SDK's own retries come on top). */
    llmAttempts?: number;
    llmBackoffMs?: number;
  };
  delivery: {
    /** SQS `ApproximateReceiveCount` of this record. */
    receiveCount: number;
    maxReceiveCount: number;
    /** Seconds before the next receive when this one asks to be retried. */
    retryDelaySeconds: number;
    /** Time left in the invocation. */
    remainingMs: () => number;
  };
  sleep?: (ms: number) => Promise<void>;
}

/** How one job ended. */
export type AnswerOutcome = 'answered' | 'duplicate' | 'failed';

/** Leave this much of the invocation for the final Slack writes and bookkeeping. */
const RESERVE_MS = 10_000;

/**
 * Answers one mention or DM: exactly one reply in the thread, shown at once, growing as the model
 * writes, ending as the complete answer, remembered for the thread.
 *
 * - The event is claimed first; a finished event is skipped, a half-done one resumes by editing
 *   the messages it already posted.
 * - Momento being down costs the history, not the answer.
 * - Retryable model failures are retried here, then handed back to the queue as
 *   {@link RetryLaterError} (the reply says so), except on the last receive, where the reply
 *   shows an error and the job completes. Permanent failures complete with an error shown.
 *
 * @throws {RetryLaterError} to be retried soon; any other throw is retried by the queue.
 */
export async function answerMention(job: AnswerJob, deps: AnswerDeps): Promise<AnswerOutcome> {
  const { logger, settings, delivery } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const thread: ThreadKey = { teamId: job.teamId, channel: job.channel, threadTs: job.threadTs };

  const claim = await bestEffort(logger, 'claim', () => deps.claims.claim(job.eventId), {
    fresh: true,
  } as Claim);
  if (!claim.fresh && claim.state.status === 'done') {
    logger.info('event already answered; skipping', { reason: 'duplicate delivery' });
    return 'duplicate';
  }
  const saveClaim = (state: ClaimState) =>
    bestEffort(logger, 'save claim', () => deps.claims.save(job.eventId, state), undefined);

  const reply = new LiveReply({
    surface: deps.surface,
    channel: job.channel,
    threadTs: job.threadTs,
    messageTs: claim.fresh ? [] : claim.state.messageTs,
    intervalMs: settings.updateIntervalMs,
    onMessages: (messageTs) => saveClaim({ status: 'answering', messageTs }),
    logger,
  });
  if (!claim.fresh)
    logger.info('resuming a reply from an earlier attempt', { messages: claim.state.messageTs.length });
  await reply.open(PLACEHOLDER);

  const finishDone = async (markdown: string, notice?: string) => {
    await reply.finish(markdown, notice);
    await saveClaim({ status: 'done', messageTs: [...reply.messageTs] });
  };

  const question = stripBotMention(job.text, settings.botUserId ?? job.botUserId);
  if (question === '') {
    await finishDone(EMPTY_QUESTION_REPLY);
    return 'answered';
  }

  const history = await bestEffort(logger, 'load history', () => deps.history.load(thread), [] as Turn[]);
  const messages = await buildPrompt({
    systemPrompt: settings.systemPrompt,
    history,
    question,
    historyBudget: settings.historyTokenBudget,
    countTokens: deps.countTokens,
  });
  logger.debug('prompt', { messages });

  const attempts = settings.llmAttempts ?? 2;
  let answer: ChatAnswer | undefined;
  let failure: LlmError | undefined;
  for (let attempt = 1; attempt <= attempts && !answer; attempt++) {
    try {
      answer = await deps.llm.stream(messages, (soFar) => reply.show(soFar));
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      failure = error;
      logger.warn('model call failed', { attempt, retryable: error.retryable, status: error.status, error });
      const backoffMs = (settings.llmBackoffMs ?? 1_000) * 2 ** (attempt - 1);
      if (!error.retryable || attempt === attempts || delivery.remainingMs() < RESERVE_MS + backoffMs) break;
      if (error.partialText) reply.show(`${error.partialText}\n\n${RETRYING_NOTICE}`);
      await sleep(backoffMs);
    }
  }

  if (!answer) {
    const error = failure!;
    if (error.retryable && delivery.receiveCount < delivery.maxReceiveCount) {
      // Never leave a broken stream looking complete: show what came and that we will retry.
      await reply.finish(error.partialText, RETRYING_NOTICE);
      const delay = delivery.retryDelaySeconds * 2 ** (delivery.receiveCount - 1);
      throw new RetryLaterError(`model unavailable; retry in ${delay}s`, delay, { cause: error });
    }
    const notice = error.retryable ? GAVE_UP_NOTICE : permanentNotice(error);
    await finishDone(error.partialText, error.partialText ? `${INTERRUPTED_NOTICE}\n${notice}` : notice);
    logger.error('gave up on the event', {
      retryable: error.retryable,
      receiveCount: delivery.receiveCount,
      error,
    });
    return 'failed';
  }

  const note =
    answer.finishReason === 'length' ? '_(The answer reached the model’s length limit.)_' : undefined;
  await reply.finish(answer.text, note);
  await bestEffort(
    logger,
    'save history',
    () =>
      deps.history.append(thread, [
        { role: 'user', content: question },
        { role: 'assistant', content: answer.text },
      ]),
    undefined,
  );
  await saveClaim({ status: 'done', messageTs: [...reply.messageTs] });
  logger.info('answered', {
    chars: answer.text.length,
    messages: reply.messageTs.length,
    slackWrites: reply.writes,
  });
  return 'answered';
}

function permanentNotice(error: LlmError): string {
  if (error.status === 401 || error.status === 403) {
    return ':warning: _I cannot reach the model: its API key was refused. Please tell whoever runs this bot._';
  }
  if (/content filter/.test(error.message))
    return ':warning: _The model declined to answer this (content filter)._';
  return `:warning: _The model could not answer this request (${error.status ?? 'error'}). Try rephrasing it._`;
}

/** Momento is a nicety: when it fails, log a warning and go on without it. */
async function bestEffort<T>(logger: Logger, what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof HistoryUnavailableError)) throw error;
    logger.warn(`Momento unavailable; continuing without it (${what})`, { error });
    return fallback;
  }
}
