import { CacheGet } from '@gomomento/sdk';
import type { MomentoCache } from './momento-cache';

/**
 * Models whose API refused `tools` (an OpenAI-compatible server without function calling),
 * remembered for a while so their answers go without tools at once instead of starting with a
 * refused request: the pattern of lib/store/streaming-availability.ts.
 */
export interface ToolsAvailability {
  /** @throws {StoreUnavailableError} */
  isOff(model: string): Promise<boolean>;
  /** @throws {StoreUnavailableError} */
  markOff(model: string): Promise<void>;
}

/** Long enough to spare the refused call on a busy day, short enough to notice a server upgrade. */
export const TOOLS_OFF_TTL_SECONDS = 6 * 60 * 60;

/** {@link ToolsAvailability} in Momento: one key per model with a TTL. */
export function momentoToolsAvailability(
  cache: MomentoCache,
  ttlSeconds = TOOLS_OFF_TTL_SECONDS,
): ToolsAvailability {
  const key = (model: string) => `tools-off:${model}`;
  return {
    async isOff(model) {
      const hit = await cache.run('get', (name) => cache.client.get(name, key(model)));
      return hit instanceof CacheGet.Hit;
    },
    async markOff(model) {
      await cache.run('set', (name) => cache.client.set(name, key(model), '1', { ttl: ttlSeconds }));
    },
  };
}
