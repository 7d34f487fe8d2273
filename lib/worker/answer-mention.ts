import type { Logger } from '@aws-lambda-powertools/logger';
import { HistoryUnavailableError, LlmError, RetryLaterError, SlackCallError } from '../errors';
import type { Admission, Governance } from '../governance/governance';
import type { ClaimState, EventClaims } from '../history/event-claims';
import type { ThreadHistory, ThreadKey } from '../history/thread-history';
import type { ChatAnswer, ChatModel } from '../llm/openai-chat';
import { buildPrompt, stripBotMention, type TokenCounter, type Turn } from '../llm/prompt';
import type { AnswerJob } from '../queue/job';
import { retryDelaySeconds } from '../queue/retry-delay';
import { LiveReply } from '../slack/live-reply';
import type { ReplySurface } from '../slack/reply-surface';
import {
  EMPTY_ANSWER_NOTICE,
  EMPTY_QUESTION_REPLY,
  GAVE_UP_NOTICE,
  INTERRUPTED_NOTICE,
  LENGTH_NOTICE,
  PLACEHOLDER,
  permanentNotice,
  RETRYING_NOTICE,
} from './notices';

export { GAVE_UP_NOTICE, PLACEHOLDER, RETRYING_NOTICE } from './notices';

/** The ports and settings `answerMention` works with. */
export interface AnswerDeps {
  surface: ReplySurface;
  llm: ChatModel;
  history: ThreadHistory;
  claims: EventClaims;
  countTokens: () => Promise<TokenCounter>;
  logger: Logger;
  /** Rollout guards: allowlist, daily quota, per-channel settings, usage counting. */
  governance?: Governance;
  settings: {
    systemPrompt: string;
    historyTokenBudget: number;
    updateIntervalMs: number;
    botUserId?: string | undefined;
    /** Tries of the model within one invocation (the SDK's own retry comes on top). */
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
export type AnswerOutcome = 'answered' | 'duplicate' | 'failed' | 'refused';

/** Leave this much of the invocation for the final Slack writes and bookkeeping. */
const RESERVE_MS = 15_000;

/**
 * Answers one mention or DM: exactly one reply in the thread, shown at once, growing as the model
 * writes, ending as the complete answer, remembered for the thread.
 *
 * - The event is claimed first; a finished event is skipped, a half-done one resumes by editing
 *   the messages it already posted (and rewrites a saved final answer without the model).
 * - Momento being down costs the history, not the answer (on a first receive).
 * - Retryable model failures are retried here, then handed back to the queue as
 *   {@link RetryLaterError} (the reply says so). Permanent ones complete with an error shown.
 * - On the last receive, any failure is shown to the user and the job completes; if even that
 *   cannot be shown, the record goes to the dead-letter queue. A Slack refusal that no retry can
 *   fix (`not_in_channel`, `is_archived`, …) completes the job at once.
 *
 * @throws {RetryLaterError} to be retried soon; any other throw is retried by the queue.
 */
export async function answerMention(job: AnswerJob, deps: AnswerDeps): Promise<AnswerOutcome> {
  const { logger, delivery } = deps;
  const session: { reply?: LiveReply } = {};
  try {
    return await answer(job, deps, session);
  } catch (error) {
    if (error instanceof RetryLaterError) throw error;
    if (error instanceof SlackCallError && !error.retryable) {
      logger.error('Slack refused the reply; no retry can fix it, so the event is done', {
        method: error.method,
        slackError: error.slackError,
      });
      return 'failed';
    }
    if (delivery.receiveCount < delivery.maxReceiveCount || !session.reply) throw error;
    logger.error('the last try failed; telling the user', { receiveCount: delivery.receiveCount, error });
    // If this write fails too, the original error sends the record to the dead-letter queue.
    await session.reply.finish('', GAVE_UP_NOTICE).catch(() => {
      throw error;
    });
    return 'failed';
  }
}

async function answer(
  job: AnswerJob,
  deps: AnswerDeps,
  session: { reply?: LiveReply },
): Promise<AnswerOutcome> {
  const { logger, settings, delivery } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const thread: ThreadKey = { teamId: job.teamId, channel: job.channel, threadTs: job.threadTs };

  let previous: ClaimState | undefined;
  try {
    const claim = await deps.claims.claim(job.eventId);
    previous = claim.fresh ? undefined : claim.state;
  } catch (error) {
    // After a first receive, an earlier attempt may have posted: answering blind could post twice.
    if (!(error instanceof HistoryUnavailableError) || delivery.receiveCount > 1) throw error;
    logger.warn('Momento unavailable; answering without an exactly-once claim', { error });
  }
  if (previous?.status === 'done') {
    logger.info('event already answered; skipping', { reason: 'duplicate delivery' });
    return 'duplicate';
  }
  const saveClaim = (state: ClaimState) =>
    bestEffort(logger, 'save claim', () => deps.claims.save(job.eventId, state), undefined);
  // Before anything is shown: a refused question gets no placeholder and no model call.
  const admission: Admission = (await deps.governance?.admit(job, { resumed: !!previous, logger })) ?? {
    allowed: true,
  };
  if (!admission.allowed) {
    await saveClaim({ status: 'done', messageTs: [] });
    return 'refused';
  }

  const reply = new LiveReply({
    surface: deps.surface,
    channel: job.channel,
    threadTs: job.threadTs,
    messageTs: previous?.messageTs ?? [],
    intervalMs: settings.updateIntervalMs,
    onMessages: (messageTs) => saveClaim({ status: 'answering', messageTs }),
    logger,
  });
  session.reply = reply;
  if (previous)
    logger.info('resuming a reply from an earlier attempt', { messages: previous.messageTs.length });

  const question = stripBotMention(job.text, settings.botUserId ?? job.botUserId);
  const complete = async (markdown: string, notice: string | undefined, remember: boolean) => {
    const final = { markdown, ...(notice ? { notice } : {}) };
    await saveClaim({ status: 'answering', messageTs: [...reply.messageTs], final });
    await reply.finish(markdown, notice);
    if (remember) {
      await bestEffort(
        logger,
        'save history',
        () =>
          deps.history.append(thread, [
            { role: 'user', content: question },
            { role: 'assistant', content: markdown },
          ]),
        undefined,
      );
    }
    await saveClaim({ status: 'done', messageTs: [...reply.messageTs], final });
  };

  if (previous?.final) {
    // The answer was complete; only writing it to Slack failed. Show it again, do not regenerate.
    await complete(previous.final.markdown, previous.final.notice, true);
    return 'answered';
  }
  await reply.open(PLACEHOLDER);
  if (question === '') {
    await complete(EMPTY_QUESTION_REPLY, undefined, false);
    return 'answered';
  }

  const history = await bestEffort(logger, 'load history', () => deps.history.load(thread), [] as Turn[]);
  const messages = await buildPrompt({
    systemPrompt: admission.channel?.systemPrompt ?? settings.systemPrompt,
    history,
    question,
    historyBudget: settings.historyTokenBudget,
    countTokens: deps.countTokens,
  });
  logger.debug('prompt', { messages });

  const attempts = settings.llmAttempts ?? 2;
  let result: ChatAnswer | undefined;
  let failure: LlmError | undefined;
  for (let attempt = 1; attempt <= attempts && !result; attempt++) {
    try {
      const deadlineMs = delivery.remainingMs() - RESERVE_MS;
      if (deadlineMs <= 0) throw new LlmError('no time left in this invocation', { retryable: true });
      result = await deps.llm.stream(
        messages,
        (soFar) => reply.show(soFar),
        { deadlineMs },
        admission.channel,
      );
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

  if (!result) {
    const error = failure!;
    if (error.retryable && delivery.receiveCount < delivery.maxReceiveCount) {
      // Never leave a broken stream looking complete: show what came and that we will retry.
      await reply.finish(error.partialText, RETRYING_NOTICE);
      const delay = retryDelaySeconds(delivery.retryDelaySeconds, delivery.receiveCount);
      throw new RetryLaterError(`model unavailable; retry in ${delay}s`, delay, { cause: error });
    }
    const notice = error.retryable ? GAVE_UP_NOTICE : permanentNotice(error);
    await complete(error.partialText, error.partialText ? `${INTERRUPTED_NOTICE}\n${notice}` : notice, false);
    logger.error('gave up on the event', {
      retryable: error.retryable,
      receiveCount: delivery.receiveCount,
      error,
    });
    return 'failed';
  }

  if (result.text.trim() === '') {
    await complete('', EMPTY_ANSWER_NOTICE, false);
    return 'answered';
  }
  await complete(result.text, result.finishReason === 'length' ? LENGTH_NOTICE : undefined, true);
  await deps.governance?.record(job, result, { logger });
  logger.info('answered', {
    chars: result.text.length,
    messages: reply.messageTs.length,
    slackWrites: reply.writes,
  });
  return 'answered';
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
