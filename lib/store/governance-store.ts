import { CacheIncrement, CacheSetIfAbsent } from '@gomomento/sdk';
import type { GovernanceStore } from '../governance/governance-store';
import type { MomentoCache } from './momento-cache';

/**
 * The store in Momento: `setIfAbsent` for marks, `increment` for counters (atomic across every
 * worker instance). Each increment may reset the item's TTL (the SDK's `increment` takes one),
 * so callers pass the time to the day's end every time and put the day in the key: either way a
 * per-day key ends with its day.
 */
export function momentoGovernanceStore(cache: MomentoCache): GovernanceStore {
  return {
    async markOnce(key, ttlSeconds) {
      const response = await cache.run('setIfAbsent', (name) =>
        cache.client.setIfAbsent(name, key, '1', { ttl: ttlSeconds }),
      );
      return response instanceof CacheSetIfAbsent.Stored;
    },
    async add(key, amount, ttlSeconds) {
      const response = await cache.run('increment', (name) =>
        cache.client.increment(name, key, amount, { ttl: ttlSeconds }),
      );
      return response instanceof CacheIncrement.Success ? response.value() : 0;
    },
  };
}
