import { StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import { type Metrics, recordFeedbackVote } from '../metrics';
import type { FeedbackJob } from '../queue/job';
import type { FeedbackVotes } from '../store/feedback-votes';

const direction = (value: 'good' | 'bad') => (value === 'good' ? 'positive' : 'negative');

/**
 * Counts one click on an answer's feedback buttons: one vote per user and answer, the last click
 * wins. `FeedbackVotes{vote}` gets +1 for a first vote; a changed vote gets +1 for the new
 * direction and -1 for the old one, so each direction's sum counts the votes as they stand; the
 * same vote again (a second click, a replayed request) counts nothing. Momento down: the click is
 * counted as a first vote (best effort, WARN), as the quotas do without it.
 */
export async function countVote(
  job: FeedbackJob,
  deps: { votes: FeedbackVotes; metrics: Metrics; logger: Logger },
): Promise<void> {
  const { logger, metrics } = deps;
  let change: Awaited<ReturnType<FeedbackVotes['cast']>>;
  try {
    change = await deps.votes.cast(job);
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logger.warn('Momento unavailable; counting the vote without checking for an earlier one', { error });
    change = { kind: 'new' };
  }
  if (change.kind !== 'same') recordFeedbackVote(metrics, direction(job.value));
  if (change.kind === 'changed') recordFeedbackVote(metrics, direction(change.from), -1);
  logger.info('feedback vote', {
    messageTs: job.messageTs,
    user: job.user,
    value: job.value,
    change: change.kind,
  });
}
