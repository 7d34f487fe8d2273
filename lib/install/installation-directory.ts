import type { Logger } from '../logger';
import type { InstallationChange } from '../slack/classify-event';
import type { InstallationStore } from './dynamodb-installations';
import { candidateKeys, type InstallationQuery, type InstallationSummary } from './installation';

/** An installation found this long ago is trusted without reading the store again. */
const DIRECTORY_HIT_MS = 60_000;
/**
 * "Not installed" is trusted for less: a workspace that installs the app sends its first events
 * seconds later, possibly to an instance that saw one of its events before.
 */
const DIRECTORY_MISS_MS = 5_000;

/**
 * What the ingress asks of the installations (is this event's workspace installed; forget one),
 * over the store with a per-instance cache: one strongly consistent DynamoDB read per workspace per
 * minute at most, so the ingress still answers Slack in milliseconds.
 * An instance that removes an installation forgets it at once; the others within a minute, and the
 * worker completes any job queued meanwhile quietly (it reads the store for each job's token).
 */
export function cachedDirectory(store: Pick<InstallationStore, 'summary' | 'remove'>) {
  const cache = new Map<string, { found: InstallationSummary | undefined; until: number }>();
  const id = (query: InstallationQuery) => candidateKeys(query).join('|');
  const forget = (key: string) => {
    for (const cached of cache.keys()) if (cached.split('|').includes(key)) cache.delete(cached);
  };
  return {
    /** The installation an event belongs to (no tokens read), or undefined when there is none. */
    async find(query: InstallationQuery): Promise<InstallationSummary | undefined> {
      const hit = cache.get(id(query));
      if (hit && hit.until > Date.now()) return hit.found;
      const found = await store.summary(query);
      cache.set(id(query), { found, until: Date.now() + (found ? DIRECTORY_HIT_MS : DIRECTORY_MISS_MS) });
      return found;
    },
    /**
     * `app_uninstalled` removes the installation; `tokens_revoked` removes it when its bot's token is
     * among those revoked (the bot token is all it holds; user tokens are never stored).
     * @returns what was done, for the log.
     */
    async apply(change: InstallationChange, logger: Logger): Promise<'removed' | 'kept' | 'none'> {
      const installation = await store.summary(change);
      const keys = { team: change.teamId, enterprise: change.enterpriseId, event: change.type };
      if (!installation) {
        logger.info('no installation to remove', keys);
        return 'none';
      }
      if (change.type === 'tokens_revoked' && !change.bot.includes(installation.botUserId)) {
        // Only users' tokens: this app stores none of those.
        logger.info('tokens revoked, none of them the installation’s bot token; kept', {
          ...keys,
          installation: installation.key,
          oauthRevoked: change.oauth.length,
        });
        return 'kept';
      }
      await store.remove(installation.key);
      forget(installation.key);
      logger.info('installation removed', { ...keys, installation: installation.key });
      return 'removed';
    },
  };
}

/** The ingress's view of the installations: {@link cachedDirectory}. */
export type InstallationDirectory = ReturnType<typeof cachedDirectory>;
