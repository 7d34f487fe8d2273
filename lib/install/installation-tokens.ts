import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { SlackCallError } from '../errors';
import type { Logger } from '../logger';
import type { InstallationStore } from './dynamodb-installations';
import { candidateKeys, type Installation, type InstallationQuery } from './installation';
import type { RefreshedTokens, TokenRefresher } from './token-refresher';

/** How long an instance trusts its copy of an installation before reading the store again. */
export const INSTALLATION_CACHE_MS = 60_000;
/**
 * Refresh a rotating token this long before it expires: @slack/oauth's `authorize` uses the same
 * two hours (its EXPIRY_WINDOW), which leaves a failed refresh many retries before the token dies.
 */
const REFRESH_AHEAD_MS = 2 * 60 * 60_000;
/** While another Lambda refreshes, a token with at least this much left is used as it is. */
const STILL_GOOD_MS = 5 * 60_000;
/** A refresh lease lasts this long: the oauth.v2.access call (client timeout 10 s) and the save. */
const REFRESH_LEASE_MS = 20_000;
/** Tries of saving a refreshed pair, 0.5 s, 1 s, 2 s apart: well within the lease. */
const SAVE_ATTEMPTS = 4;
const SAVE_RETRY_MS = 500;
/** How often a Lambda waiting on another's refresh reads the store again. */
const POLL_MS = 200;
/**
 * After a failed refresh, a token that still works is used as it is for this long before this
 * instance tries again: the two hours ahead are there for such retries, not for failing jobs.
 */
export const REFRESH_RETRY_MS = 60_000;

/**
 * Finds each job's installation and keeps its bot token fresh, over the store: cached per instance
 * for {@link INSTALLATION_CACHE_MS}, concurrent resolves of one workspace in an instance share one
 * read, and a token due for refresh is refreshed by exactly one Lambda — the one whose conditional
 * write takes the lease. It saves the new pair before using it; the others use the old token while
 * it is still good, or read the store until the new pair is there. Refresh tokens are single use
 * (https://docs.slack.dev/authentication/using-token-rotation), and @slack/oauth's `authorize`
 * refreshes without a lock across processes, which spends one refresh token twice and leaves an
 * invalid pair (https://github.com/slackapi/node-slack-sdk/issues/2504).
 */
export function installationTokens(deps: {
  store: InstallationStore;
  refresher: TokenRefresher;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}) {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => sleepFor(ms));
  const cache = new Map<string, { installation: Installation; until: number }>();
  const inflight = new Map<string, Promise<Installation | undefined>>();
  /** Installations whose refresh failed here, and until when their current token is used as it is. */
  const refreshFailed = new Map<string, number>();
  const stillGood = (installation: Installation) =>
    (installation.expiresAt ?? Infinity) - now() > STILL_GOOD_MS;
  /** Token rotation is on and less than {@link REFRESH_AHEAD_MS} is left. */
  const needsRefresh = ({ refreshToken, expiresAt }: Installation) =>
    refreshToken !== undefined && expiresAt !== undefined && expiresAt - now() <= REFRESH_AHEAD_MS;

  const remember = (installation: Installation) => {
    const due = (installation.expiresAt ?? Infinity) - REFRESH_AHEAD_MS;
    const retryAt = refreshFailed.get(installation.key) ?? 0;
    const until = Math.min(
      now() + INSTALLATION_CACHE_MS,
      retryAt > now() ? Math.min(retryAt, (installation.expiresAt ?? Infinity) - STILL_GOOD_MS) : due,
    );
    cache.set(installation.key, { installation, until });
    return installation;
  };

  async function refreshed(current: Installation, logger: Logger): Promise<Installation | undefined> {
    let installation: Installation | undefined = current;
    if ((refreshFailed.get(current.key) ?? 0) > now() && stillGood(current)) return current;
    while (installation && needsRefresh(installation)) {
      const holder = randomUUID();
      const version = installation.version;
      if (
        await deps.store.takeRefreshLease(installation.key, version, holder, now() + REFRESH_LEASE_MS, now())
      ) {
        return refreshUnderLease(installation, holder, logger);
      }
      // Another Lambda refreshes. Its token is still good for a while: use it meanwhile.
      if (stillGood(installation)) return installation;
      const waitUntil = now() + REFRESH_LEASE_MS + POLL_MS;
      do {
        await sleep(POLL_MS);
        installation = await deps.store.get(installation.key);
      } while (installation && installation.version === version && now() < waitUntil);
      // A new version: the pair is fresh (loop ends). The same after the lease: take it ourselves.
    }
    return installation;
  }

  async function refreshUnderLease(installation: Installation, holder: string, logger: Logger) {
    let tokens: RefreshedTokens;
    try {
      tokens = await deps.refresher.refresh(installation.refreshToken!);
    } catch (error) {
      await deps.store.releaseRefreshLease(installation.key, holder).catch(() => undefined);
      const refused = error instanceof SlackCallError && !error.retryable;
      if (refused) {
        // Only a reinstall helps: said at ERROR, so the alarm on errors tells the operator in time.
        logger.error('Slack refused the installation’s refresh token; reinstall the app in this workspace', {
          installation: installation.key,
          slackError: error.slackError,
        });
      }
      if (stillGood(installation)) {
        // The token in hand still works: this job answers with it, and the refresh is tried again
        // later, while the two hours ahead of expiry last.
        if (!refused)
          logger.warn('could not refresh the installation’s bot token; using it until it is due', {
            installation: installation.key,
            error,
          });
        refreshFailed.set(installation.key, now() + REFRESH_RETRY_MS);
        return installation;
      }
      if (refused) {
        throw new SlackCallError(
          error.method,
          { slackError: error.slackError ?? 'invalid_refresh_token', retryable: false, category: 'auth' },
          { cause: error },
        );
      }
      throw error;
    }
    refreshFailed.delete(installation.key);
    // Saved before it is used: the refresh token just spent is gone, the new one is only here.
    const saved = await saveWithRetries(installation, holder, tokens, logger);
    logger.info('refreshed the installation’s bot token', {
      installation: installation.key,
      expiresInMinutes: Math.round((tokens.expiresAt - now()) / 60_000),
    });
    // The lease was lost (a reinstall replaced the item): the store's copy wins.
    return saved ?? deps.store.get(installation.key);
  }

  /**
   * Saves a refreshed pair, trying again within the lease when the store fails: a pair that is not
   * saved is lost with this instance, and the next refresh would spend the old, used refresh token.
   */
  async function saveWithRetries(
    installation: Installation,
    holder: string,
    tokens: RefreshedTokens,
    logger: Logger,
  ): Promise<Installation | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await deps.store.saveRefreshed(installation.key, holder, tokens);
      } catch (error) {
        if (attempt + 1 >= SAVE_ATTEMPTS) {
          logger.error(
            'could not save the refreshed bot token; the workspace may have to reinstall the app',
            { installation: installation.key, error },
          );
          throw error;
        }
        await sleep(SAVE_RETRY_MS * 2 ** attempt);
      }
    }
  }

  async function load(query: InstallationQuery, logger: Logger): Promise<Installation | undefined> {
    const found = await deps.store.find(query);
    if (!found) return undefined;
    const fresh = await refreshed(found, logger);
    return fresh ? remember(fresh) : undefined;
  }

  return {
    /**
     * The installation with a bot token good for now, or undefined when the workspace has none
     * (uninstalled, or never installed).
     * @throws {SlackCallError} `auth` when the refresh token was refused; retryable when Slack or
     *   DynamoDB could not be reached ({@link InstallationStoreError}).
     */
    resolve(query: InstallationQuery, logger: Logger): Promise<Installation | undefined> {
      for (const key of candidateKeys(query)) {
        const hit = cache.get(key);
        if (hit && hit.until > now()) return Promise.resolve(hit.installation);
      }
      const id = candidateKeys(query).join('|');
      let pending = inflight.get(id);
      if (!pending) {
        pending = load(query, logger).finally(() => inflight.delete(id));
        inflight.set(id, pending);
      }
      return pending;
    },
    /** Forgets this instance's copy: the next `resolve` reads the store (after Slack refused a token). */
    forget(query: InstallationQuery): void {
      for (const key of candidateKeys(query)) cache.delete(key);
    },
  };
}

/** The worker's view of the installations: {@link installationTokens}. */
export type InstallationTokens = ReturnType<typeof installationTokens>;
