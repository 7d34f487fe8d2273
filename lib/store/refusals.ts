import { CacheGet } from '@gomomento/sdk';
import type { MomentoCache } from './momento-cache';

/**
 * Refusals remembered for a while, per key: a workspace where Slack refused native streaming
 * (`feature_not_enabled`), a model whose OpenAI-compatible API refused `tools`. The next answers
 * skip the refused call at once instead of starting with it.
 */
export interface RememberedRefusals {
  /** @throws {StoreUnavailableError} */
  isOff(key: string): Promise<boolean>;
  /** @throws {StoreUnavailableError} */
  markOff(key: string, why?: string): Promise<void>;
}

/** Long enough to spare the refused call on a busy day, short enough to notice when it is allowed. */
const REFUSAL_TTL_SECONDS = 6 * 60 * 60;

/** {@link RememberedRefusals} in Momento: one key per refused thing (`<prefix>:<key>`) with a TTL. */
export function momentoRefusals(cache: MomentoCache, prefix: string): RememberedRefusals {
  const key = (k: string) => `${prefix}:${k}`;
  return {
    async isOff(k) {
      const hit = await cache.run('get', (name) => cache.client.get(name, key(k)));
      return hit instanceof CacheGet.Hit;
    },
    async markOff(k, why) {
      await cache.run('set', (name) =>
        cache.client.set(name, key(k), why ?? '1', { ttl: REFUSAL_TTL_SECONDS }),
      );
    },
  };
}
