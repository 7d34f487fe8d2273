import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import { gatherContext } from '../context/gather-context';
import { RetryLaterError, SlackCallError, StoreUnavailableError } from '../errors';
import { MODEL_CALL_BUDGET } from '../llm/model-call-budget';
import type { ChatAnswer } from '../llm/openai-chat';
import { stripBotMention, type Turn } from '../llm/prompt';
import type { AnswerJob } from '../queue/job';
import { retryDelaySeconds } from '../queue/retry-delay';
import { setThreadTitle } from '../slack/assistant-threads';
import type { ClaimState } from '../store/event-claims';
import { runAgent } from '../tools/agent-loop';
import { toolsForAnswer } from '../tools/tools-for-answer';
import type { AnswerDeps, AnswerOutcome } from './answer-deps';
import { type AnswerSession, answerFailed } from './answer-failed';
import { ClaimRecorder } from './claim-recorder';
import {
  EMPTY_ANSWER_NOTICE,
  EMPTY_QUESTION_REPLY,
  GAVE_UP_NOTICE,
  INTERRUPTED_NOTICE,
  LENGTH_NOTICE,
  permanentNotice,
  RETRYING_NOTICE,
  STOPPED_NOTICE,
} from './notices';
import { BOOKKEEPING_MS, FINAL_WRITE_RETRY_SECONDS, reserveMs } from './time-reserve';

/**
 * Answers one mention or DM: exactly one reply in the thread, shown at once, growing as the model
 * writes, ending as the complete answer with feedback buttons, remembered for the thread.
 *
 * The story: claim the event → admit it (allowlist, daily quota; before anything is shown) → open
 * the reply (status or placeholder; an earlier attempt's messages are resumed) → gather the context
 * (memory, thread, files) → stream the model into the reply, with the tools it calls (each shown as
 * a step) → count the usage → finish (feedback buttons) → remember the answer and a line naming the
 * lookups.
 *
 * - A finished event is skipped; a saved final answer is rewritten without the model.
 * - Momento being down costs the history, not the answer (on a first receive).
 * - Retryable model failures are retried here, then handed back to the queue as
 *   {@link RetryLaterError} (the reply says so). Permanent ones complete with an error shown.
 * - Stop: the model is aborted, the partial answer is kept and remembered, the job completes.
 * - A final write that could not be made in the time left comes back in seconds and is resumed.
 * - Any other failure ends as {@link answerFailed} sorts it (Slack's refusals, the last receive).
 *
 * @throws {RetryLaterError} to be retried soon; any other throw is retried by the queue.
 */
export async function answerMention(job: AnswerJob, deps: AnswerDeps): Promise<AnswerOutcome> {
  const session: AnswerSession = {};
  try {
    return await answer(job, deps, session);
  } catch (error) {
    return await answerFailed(error, deps, session);
  } finally {
    // Tokens reserved at admission and not settled by an answer's usage (a failure, a retry later).
    await deps.governance.release(job, { logger: deps.logger });
  }
}

async function answer(job: AnswerJob, deps: AnswerDeps, session: AnswerSession): Promise<AnswerOutcome> {
  const { logger, settings, delivery } = deps;
  const sleep = deps.sleep ?? ((ms: number) => sleepFor(ms));
  const lastReceive = delivery.receiveCount >= delivery.maxReceiveCount;
  const reserve = reserveMs(delivery.remainingMs());
  const botUserId = settings.botUserId ?? job.botUserId;

  // 1. Claim the event.
  let previous: ClaimState | undefined;
  let claimed = true;
  const claimedAt = Date.now();
  try {
    // The same time in the store and in the state saved next (a save writes the whole state).
    const claim = await deps.claims.claim(job.eventId, claimedAt);
    previous = claim.fresh ? undefined : claim.state;
  } catch (error) {
    // After a first receive, an earlier attempt may have posted: answering blind could post twice.
    if (!(error instanceof StoreUnavailableError) || delivery.receiveCount > 1) throw error;
    logger.warn('Momento unavailable; answering without an exactly-once claim', { error });
    claimed = false;
  }
  if (previous?.status === 'done') {
    logger.info('event already answered; skipping', { reason: 'duplicate delivery' });
    return 'duplicate';
  }
  // Before anything is shown: a refused question gets no status, no placeholder and no model call.
  const admission = await deps.governance.admit(job, { resumed: previous?.admitted === true, logger });
  const claim = new ClaimRecorder(
    deps.claims,
    job.eventId,
    previous ?? { status: 'answering', messageTs: [], claimedAt },
    logger,
  );
  session.claim = claim;
  if (!admission.allowed) {
    await claim.done();
    return 'refused';
  }
  claim.admitted();

  // 2. Open the reply: a status or placeholder, or what an earlier attempt posted.
  const reply = await deps.replies.open(
    { ...job, botUserId },
    {
      previous: previous?.messageTs.length
        ? {
            path: previous.path ?? 'edit',
            messageTs: previous.messageTs,
            ...(previous.streaming ? { streaming: previous.streaming } : {}),
          }
        : undefined,
      // An earlier attempt may have posted what its claim does not hold (a save failed, it crashed,
      // or Momento was down on the first receive): look for its messages in the thread, unless it
      // handed the event back with its claim complete.
      lookInThread: claimed && (previous ? !previous.handedBack : delivery.receiveCount > 1),
      ownSince: ownSince(previous, delivery.firstReceivedAt),
    },
    {
      timeLeftMs: () => delivery.remainingMs() - BOOKKEEPING_MS,
      // The last receive has no queue to go back to: its final writes wait for Slack while time allows.
      ...(lastReceive ? { maxBudgetWaitMs: Number.POSITIVE_INFINITY } : {}),
      onMessages: (messages) => claim.messagesChanged(messages),
      logger,
    },
  );
  session.reply = reply;
  if (previous) logger.info('resuming a reply from an earlier attempt', { messages: reply.messageTs.length });

  const question = stripBotMention(job.text, botUserId);
  // What to remember with the answer; gatherContext adds the thread messages it sent.
  let asked: Turn[] = [{ role: 'user', content: question, ts: job.ts }];
  let lookups: string[] = [];
  const complete = async (markdown: string, notice: string | undefined, remember: boolean) => {
    await claim.finalReady({
      markdown,
      ...(notice ? { notice } : {}),
      remember,
      ...(lookups.length > 0 ? { trace: lookups } : {}),
    });
    try {
      await reply.finish(markdown, { ...(notice ? { notice } : {}), feedback: remember });
    } catch (error) {
      if (!(error instanceof SlackCallError) || !error.retryable || lastReceive) throw error;
      // The answer is saved: the redelivery, seconds from now (or once Slack's Retry-After or the
      // workspace's budget allows), only writes it, instead of this invocation sleeping until then.
      const delay = Math.max(FINAL_WRITE_RETRY_SECONDS, Math.ceil(error.retryAfterSeconds ?? 0));
      throw new RetryLaterError('the final write could not be made now', delay, { cause: error });
    }
    if (remember) {
      await bestEffort(
        logger,
        'save history',
        () =>
          deps.history.append(job, [
            ...asked,
            {
              role: 'assistant',
              content: withTrace(markdown, lookups),
              ...(reply.messageTs[0] ? { ts: reply.messageTs[0] } : {}),
            },
          ]),
        undefined,
      );
    }
    await claim.done();
  };

  if (previous?.final) {
    // The answer was complete; only writing it to Slack failed. Show it again, do not regenerate.
    const { markdown, notice, remember, trace } = previous.final;
    lookups = trace ?? [];
    await complete(markdown, notice, remember ?? notice === undefined);
    return 'answered';
  }
  await reply.open();
  if (question === '' && !job.files?.length) {
    await complete(EMPTY_QUESTION_REPLY, undefined, false);
    return 'answered';
  }

  // 3. Gather the context.
  const history = await bestEffort(logger, 'load history', () => deps.history.load(job), [] as Turn[]);
  const context = await gatherContext(
    {
      job,
      question,
      memory: history,
      systemPrompt: admission.channel?.systemPrompt ?? settings.systemPrompt,
      historyBudget: settings.historyTokenBudget,
      botUserId,
      timeMs: delivery.remainingMs() - reserve,
    },
    deps.context,
    logger,
  );
  const messages = context.messages;
  asked = context.remember;
  logger.debug('prompt', { messages });
  // A new DM conversation gets a short title from its first question, meanwhile; best effort.
  const titled =
    job.isDm && history.length === 0 && deps.assistant
      ? setThreadTitle(
          deps.assistant,
          { channel: job.channel, threadTs: job.threadTs, question },
          logger,
        ).catch(() => false)
      : undefined;

  // 4. Stream the model into the reply, running the tools it calls.
  const streamed = await runAgent(
    {
      messages,
      reply,
      overrides: admission.channel,
      tools: await toolsForAnswer(job, messages, admission.channel, deps.tools, logger),
      withoutImages: context.withoutImages,
    },
    {
      llm: deps.llm,
      toolPorts: deps.tools,
      logger,
      attempts: MODEL_CALL_BUDGET.attemptsPerInvocation,
      backoffMs: settings.llmBackoffMs ?? MODEL_CALL_BUDGET.backoffMs,
      retryingNotice: RETRYING_NOTICE,
      reserveMs: reserve,
      remainingMs: delivery.remainingMs,
      sleep,
    },
  );

  // 5. Finish and remember.
  await titled;
  lookups = streamed.trace;
  // (A failure after the user pressed Stop ends the answer as they stopped it, below.)
  if ('failure' in streamed && !reply.stopped.aborted) {
    const error = streamed.failure;
    if (error.retryable && delivery.receiveCount < delivery.maxReceiveCount) {
      // Never leave a broken stream looking complete: show what came and that we will retry.
      await reply.finish(error.partialText, { notice: RETRYING_NOTICE });
      // Unless Slack said, as it was to be written, that the user had pressed Stop: then it ends here.
      if (!reply.stopped.aborted) {
        const delay = retryDelaySeconds(delivery.retryDelaySeconds, delivery.receiveCount);
        throw new RetryLaterError(`model unavailable; retry in ${delay}s`, delay, { cause: error });
      }
    } else {
      const notice = error.retryable ? GAVE_UP_NOTICE : permanentNotice(error);
      await complete(
        error.partialText,
        error.partialText ? `${INTERRUPTED_NOTICE}\n${notice}` : notice,
        false,
      );
      logger.error('gave up on the event', {
        retryable: error.retryable,
        receiveCount: delivery.receiveCount,
        error,
      });
      return 'failed';
    }
  }

  const result: ChatAnswer =
    'answer' in streamed ? streamed.answer : { text: streamed.failure.partialText, finishReason: 'stopped' };
  if (result.finishReason === 'stopped') {
    // The user pressed Stop: keep and remember what was shown; nothing more is written to the stream.
    // The tokens until Stop were paid for: they count.
    await deps.governance.record(job, result, { logger });
    await complete(result.text, STOPPED_NOTICE, result.text.trim() !== '');
    logger.info('stopped by the user', { chars: result.text.length, path: reply.path });
    return 'answered';
  }
  if (result.text.trim() === '') {
    await complete('', EMPTY_ANSWER_NOTICE, false);
    return 'answered';
  }
  // Counted before the final write: if that write is handed back to the queue, the redelivery
  // writes the saved answer without the model, and the tokens are counted once.
  await deps.governance.record(job, result, { logger });
  await complete(result.text, result.finishReason === 'length' ? LENGTH_NOTICE : undefined, true);
  logger.info('answered', {
    chars: result.text.length,
    messages: reply.messageTs.length,
    slackWrites: reply.writes,
    path: reply.path,
  });
  return 'answered';
}

/** The remembered answer: a line naming the lookups made for it, then the answer (not their results). */
function withTrace(markdown: string, trace: readonly string[]): string {
  if (trace.length === 0) return markdown;
  return `(Looked up for this answer: ${trace.join('; ')})\n\n${markdown}`;
}

/** Momento is a nicety: when it fails, log a warning and go on without it. */
async function bestEffort<T>(logger: Logger, what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logger.warn(`Momento unavailable; continuing without it (${what})`, { error });
    return fallback;
  }
}

/**
 * Slack's and Lambda's clocks may differ by this much: a message this event created a moment after
 * its claim is still its own. Far less than an earlier question's last write precedes the claim.
 */
const CLOCK_SKEW_MS = 200;

/**
 * From when a bot message in the thread may be this event's own (lib/reply/own-messages.ts): its
 * first claim, which no earlier question's message follows; without one (Momento was down, or a
 * claim saved before claims kept the time), the record's first receive.
 */
function ownSince(previous: ClaimState | undefined, firstReceivedAt: number | undefined): number | undefined {
  if (previous?.claimedAt === undefined) return firstReceivedAt;
  return Math.max(previous.claimedAt - CLOCK_SKEW_MS, firstReceivedAt ?? 0);
}
