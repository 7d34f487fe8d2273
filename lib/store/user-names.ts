import { CacheGet } from '@gomomento/sdk';
import { StoreUnavailableError } from '../errors';
import type { MomentoCache } from './momento-cache';

const key = (teamId: string, id: string) => `user:${teamId}:${id}`;

/**
 * People's display names kept in Momento under `user:<team>:<id>` for `ttlSeconds`. Never throws
 * {@link StoreUnavailableError}: Momento failing costs the kept name, not the answer.
 */
export class KeptUserNames {
  constructor(
    private readonly cache: MomentoCache,
    readonly ttlSeconds: number,
  ) {}

  /** The name kept for `id`, if any. */
  async get(teamId: string, id: string): Promise<string | undefined> {
    const { cache } = this;
    const hit = await cache
      .run('get', (name) => cache.client.get(name, key(teamId, id)))
      .catch(unlessUnavailable);
    return hit instanceof CacheGet.Hit ? hit.valueString() : undefined;
  }

  /** Keeps `name` for `id`. */
  async set(teamId: string, id: string, name: string): Promise<void> {
    const { cache } = this;
    await cache
      .run('set', (c) => cache.client.set(c, key(teamId, id), name, { ttl: this.ttlSeconds }))
      .catch(unlessUnavailable);
  }
}

function unlessUnavailable(error: unknown): undefined {
  if (!(error instanceof StoreUnavailableError)) throw error;
  return undefined;
}
