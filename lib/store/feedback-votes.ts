import { CacheSetIfAbsent, CacheSetIfPresentAndNotEqual } from '@gomomento/sdk';
import type { FeedbackValue } from '../slack/feedback-block';
import type { MomentoCache } from './momento-cache';

/** What one click did to the user's vote on an answer. */
export type VoteChange =
  | { kind: 'new' }
  /** The user had voted the other way: this click replaces that vote. */
  | { kind: 'changed'; from: FeedbackValue }
  /** The same vote again (a second click, a replay): nothing changes. */
  | { kind: 'same' };

/**
 * Each user's vote on each answer, as the last click left it: one Momento item per user and
 * answer, decided atomically across every worker with conditional writes
 * (https://docs.momentohq.com/cache/develop/api-reference): `setIfAbsent` stores a first vote;
 * otherwise `setIfPresentAndNotEqual` replaces a vote the other way (there are only two values, so
 * "not this value" is the other one); if neither stores, the vote was already this value. Kept for
 * `ttlSeconds` (the thread memory's TTL): a click later than that counts as a first vote again.
 */
export class FeedbackVotes {
  constructor(
    private readonly cache: MomentoCache,
    private readonly ttlSeconds: number,
  ) {}

  /** @throws {StoreUnavailableError} */
  async cast(vote: {
    teamId: string;
    channel: string;
    messageTs: string;
    user: string;
    value: FeedbackValue;
  }): Promise<VoteChange> {
    const { cache, ttlSeconds } = this;
    const { value } = vote;
    const key = `vote:${vote.teamId}:${vote.channel}:${vote.messageTs}:${vote.user}`;
    const first = await cache.run('setIfAbsent', (name) =>
      cache.client.setIfAbsent(name, key, value, { ttl: ttlSeconds }),
    );
    if (first instanceof CacheSetIfAbsent.Stored) return { kind: 'new' };
    const changed = await cache.run('setIfPresentAndNotEqual', (name) =>
      cache.client.setIfPresentAndNotEqual(name, key, value, value, { ttl: ttlSeconds }),
    );
    if (changed instanceof CacheSetIfPresentAndNotEqual.Stored)
      return { kind: 'changed', from: value === 'good' ? 'bad' : 'good' };
    return { kind: 'same' };
  }
}
