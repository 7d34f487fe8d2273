import { CacheGet } from '@gomomento/sdk';
import type { MomentoCache } from './momento-cache';

/**
 * Workspaces where Slack refused native streaming (e.g. `feature_not_enabled`), remembered for a
 * while so their answers go straight to the edit path instead of starting with a refused call.
 */
export interface StreamingAvailability {
  /** @throws {StoreUnavailableError} */
  isOff(teamId: string): Promise<boolean>;
  /** @throws {StoreUnavailableError} */
  markOff(teamId: string, slackError: string): Promise<void>;
}

/** Long enough to spare the failed call on a busy day, short enough to notice when an admin enables it. */
export const STREAMING_OFF_TTL_SECONDS = 6 * 60 * 60;

/** {@link StreamingAvailability} in Momento: one key per workspace with a TTL. */
export function momentoStreamingAvailability(
  cache: MomentoCache,
  ttlSeconds = STREAMING_OFF_TTL_SECONDS,
): StreamingAvailability {
  const key = (teamId: string) => `streaming-off:${teamId}`;
  return {
    async isOff(teamId) {
      const hit = await cache.run('get', (name) => cache.client.get(name, key(teamId)));
      return hit instanceof CacheGet.Hit;
    },
    async markOff(teamId, slackError) {
      await cache.run('set', (name) => cache.client.set(name, key(teamId), slackError, { ttl: ttlSeconds }));
    },
  };
}
