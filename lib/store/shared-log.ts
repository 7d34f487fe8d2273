import { CacheListFetch, CollectionTtl } from '@gomomento/sdk';
import type { SharedLog } from '../reply/write-budget';
import type { MomentoCache } from './momento-cache';

/**
 * {@link SharedLog} in Momento: a list per key (`listPushBack` with `truncateFrontToSize`, then
 * `listFetch`; `listRemoveValue`), its TTL refreshed on every append
 * (https://docs.momentohq.com/cache/develop/api-reference/list-collections).
 */
export function momentoSharedLog(cache: MomentoCache): SharedLog {
  return {
    async append(key, entry, keep, ttlSeconds) {
      await cache.run('listPushBack', (name) =>
        cache.client.listPushBack(name, key, entry, {
          ttl: CollectionTtl.of(ttlSeconds).withRefreshTtlOnUpdates(),
          truncateFrontToSize: keep,
        }),
      );
      const res = await cache.run('listFetch', (name) => cache.client.listFetch(name, key));
      return res instanceof CacheListFetch.Hit ? res.valueListString() : [];
    },
    async remove(key, entry) {
      await cache.run('listRemoveValue', (name) => cache.client.listRemoveValue(name, key, entry));
    },
  };
}
