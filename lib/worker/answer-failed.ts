import { RetryLaterError, SlackCallError } from '../errors';
import type { AnswerReply } from '../reply/answer-reply';
import type { AnswerDeps, AnswerOutcome } from './answer-deps';
import type { ClaimRecorder } from './claim-recorder';
import { GAVE_UP_NOTICE } from './notices';

/** What the story has opened so far, for the failure paths. */
export interface AnswerSession {
  reply?: AnswerReply;
  claim?: ClaimRecorder;
}

/**
 * What becomes of an answer that failed, by what failed:
 * - to be tried again soon ({@link RetryLaterError}), or Slack (429) or the write budget saying
 *   when: the attempt ends and the record comes back then ({@link handBack});
 * - Slack refusing the token or scopes: the workspace uninstalled the app (done, quietly), or the
 *   record goes towards the dead-letter queue and its alarm (every event fails until someone acts);
 * - Slack refusing this conversation for good: done, with nothing more written;
 * - anything else: retried by the queue, except on the last receive, where the user is told and
 *   the job is done (if even that cannot be written, the record goes to the dead-letter queue).
 * @throws the error (or a {@link RetryLaterError}) when the record is to come back.
 */
export async function answerFailed(
  error: unknown,
  deps: Pick<AnswerDeps, 'logger' | 'delivery' | 'stillInstalled'>,
  session: AnswerSession,
): Promise<AnswerOutcome> {
  const { logger, delivery } = deps;
  const last = delivery.receiveCount >= delivery.maxReceiveCount;
  const busy =
    error instanceof SlackCallError && error.retryable && error.retryAfterSeconds !== undefined && !last;
  if (error instanceof RetryLaterError || busy) {
    await handBack(session, error);
    if (error instanceof RetryLaterError) throw error;
    // Slack (429) or the workspace's write budget says when: come back then, not sooner or later.
    const delay = Math.max(1, Math.ceil((error as SlackCallError).retryAfterSeconds ?? 0));
    throw new RetryLaterError('Slack is busy here', delay, { cause: error });
  }
  if (error instanceof SlackCallError && error.category === 'auth') {
    if (deps.stillInstalled && !(await deps.stillInstalled())) {
      // The workspace uninstalled the app (or revoked its token) meanwhile: nobody to answer.
      logger.info('the workspace has no installation any more; the job completes quietly', {
        method: error.method,
      });
      return 'uninstalled';
    }
    // Every event fails until the token or the app is fixed: let the dead-letter alarm tell someone.
    logger.error('Slack refused the bot’s token or scopes; the record goes towards the dead-letter queue', {
      method: error.method,
      slackError: error.slackError,
    });
    throw error;
  }
  if (error instanceof SlackCallError && !error.retryable) {
    logger.error('Slack refused the reply; no retry can fix it, so the event is done', {
      method: error.method,
      slackError: error.slackError,
    });
    await session.reply?.abandon().catch(() => undefined);
    return 'failed';
  }
  if (!last || !session.reply) throw error;
  logger.error('the last try failed; telling the user', { receiveCount: delivery.receiveCount, error });
  // If this write fails too, the original error sends the record to the dead-letter queue.
  await session.reply.finish('', { notice: GAVE_UP_NOTICE }).catch(() => {
    throw error;
  });
  return 'failed';
}

/**
 * This attempt ends and the queue brings the event back: nothing more is written, and unless a
 * write's outcome is in doubt, the claim says its state is complete (the next attempt then need not
 * search the thread for messages it does not hold).
 */
async function handBack(session: AnswerSession, error: unknown): Promise<void> {
  await session.reply?.abandon().catch(() => undefined);
  const cause = error instanceof RetryLaterError ? error.cause : error;
  if (!(cause instanceof SlackCallError && cause.uncertain)) await session.claim?.handedBack();
}
