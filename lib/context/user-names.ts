import type { Logger } from '@aws-lambda-powertools/logger';
import type { WebClient } from '@slack/web-api';
import { call, slackErrorCode } from '../slack/web-api-call';
import type { KeptUserNames } from '../store/user-names';

/** Finds people's display names. Never throws: an unknown name is `<@U…>`. */
export interface UserNames {
  /**
   * Names of `ids` (each once); ids it could not name map to their `<@U…>` mention text.
   * @param logger the answer's logger, for a WARN when some names could not be read.
   */
  names(teamId: string, ids: string[], deadline: number, logger: Logger): Promise<Map<string, string>>;
}

/** At most this many `users.info` calls per answer (Tier 4: 100+/min); the rest keep their id. */
export const MAX_LOOKUPS = 20;
/** Lookups in flight at once. */
const CONCURRENCY = 4;

/**
 * Display names from `users.info` (https://docs.slack.dev/reference/methods/users.info, scope
 * `users:read`): `profile.display_name`, else `real_name`, else `name`. Kept in Momento, and in
 * this process for as long, so a busy thread costs a lookup per person per few hours. Momento or
 * Slack failing costs the names, not the answer.
 */
export function slackUserNames(client: WebClient, kept: KeptUserNames): UserNames {
  const local = new Map<string, { name: string; until: number }>();
  const key = (teamId: string, id: string) => `${teamId}:${id}`;

  const keep = (teamId: string, id: string, name: string) =>
    local.set(key(teamId, id), { name, until: Date.now() + kept.ttlSeconds * 1000 });

  return {
    async names(teamId, ids, deadline, logger) {
      const result = new Map<string, string>();
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const known = local.get(key(teamId, id));
        if (known && known.until > Date.now()) result.set(id, known.name);
        else missing.push(id);
      }
      const failures = new Map<string, number>();
      const lookUp = async (id: string): Promise<void> => {
        const stored = await kept.get(teamId, id);
        if (stored !== undefined) {
          keep(teamId, id, stored);
          result.set(id, stored);
          return;
        }
        const left = deadline - Date.now();
        if (left <= 0) return;
        try {
          const { user } = await call('users.info', () => client.users.info({ user: id }), left);
          const name = user?.profile?.display_name || user?.real_name || user?.name;
          if (name) {
            result.set(id, name);
            keep(teamId, id, name);
            await kept.set(teamId, id, name);
          }
        } catch (error) {
          const code = slackErrorCode(error);
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
      };
      const queue = missing.slice(0, MAX_LOOKUPS);
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
          for (let id = queue.shift(); id !== undefined; id = queue.shift()) await lookUp(id);
        }),
      );
      if (failures.size > 0 || missing.length > MAX_LOOKUPS) {
        logger.warn('some user names could not be read; their ids stand in', {
          failures: Object.fromEntries(failures),
          skipped: Math.max(0, missing.length - MAX_LOOKUPS),
        });
      }
      for (const id of ids) if (!result.has(id)) result.set(id, `<@${id}>`);
      return result;
    },
  };
}

/** User ids mentioned in a Slack text: `<@U123>` and `<@U123|name>`. */
export function mentionedUsers(text: string): string[] {
  return [...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]{0,80})?>/g)].map((m) => m[1]!);
}

/**
 * Makes mentions readable: `<@U123>` becomes `@Alice` when the name is known, and `<@U123|alice>`
 * its own label; an unknown id stays as it is
 * (https://docs.slack.dev/messaging/formatting-message-text#mentioning-users).
 */
export function readableMentions(text: string, names: ReadonlyMap<string, string>): string {
  return text.replace(/<@([UW][A-Z0-9]+)(?:\|([^>]{0,80}))?>/g, (whole, id: string, label?: string) => {
    const name = names.get(id);
    if (name !== undefined && name !== `<@${id}>`) return `@${name}`;
    return label ? `@${label}` : whole;
  });
}
