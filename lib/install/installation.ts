/**
 * One installation of the app: a workspace, or a whole Enterprise Grid organization for an
 * org-wide install (`is_enterprise_install` in the oauth.v2.access response and in each event's
 * `authorizations`: https://api.slack.com/enterprise/apps/reference). Keyed by the team, or by the
 * enterprise for an org-wide install, as @slack/oauth's own stores key them.
 */
export interface Installation {
  /** {@link installationKey}: `team:T…`, or `enterprise:E…` for an org-wide install. */
  key: string;
  /** The workspace; absent on an org-wide install (`team: null`). */
  teamId?: string | undefined;
  enterpriseId?: string | undefined;
  isEnterpriseInstall: boolean;
  appId?: string | undefined;
  /** The bot's user id in that workspace or organization (`bot_user_id`). */
  botUserId: string;
  botId?: string | undefined;
  /** Bot scopes granted. */
  scopes: string[];
  /** Who installed it. */
  installerUserId?: string | undefined;
  /** The bot token: `xoxb-…`, or `xoxe.xoxb-…` with token rotation. Never logged. */
  botToken: string;
  /** With token rotation: the single-use refresh token, and when the bot token expires (epoch ms). */
  refreshToken?: string | undefined;
  expiresAt?: number | undefined;
  /** Changes on every write of the tokens; a refresh is conditional on it. */
  version: number;
  installedAt: number;
}

/** What an event or a job says about where it comes from. */
export interface InstallationQuery {
  teamId: string;
  enterpriseId?: string | undefined;
  /** From the event's `authorizations[0].is_enterprise_install`, when it had them. */
  isEnterpriseInstall?: boolean | undefined;
}

/** The key an installation is stored under. */
export function installationKey(i: {
  teamId?: string | undefined;
  enterpriseId?: string | undefined;
  isEnterpriseInstall: boolean;
}): string {
  if (i.isEnterpriseInstall) {
    if (!i.enterpriseId) throw new Error('an org-wide installation needs its enterprise id');
    return `enterprise:${i.enterpriseId}`;
  }
  if (!i.teamId) throw new Error('a workspace installation needs its team id');
  return `team:${i.teamId}`;
}

/**
 * Where to look for an event's installation, in order. An event that says it comes through an
 * org-wide install is looked up by its enterprise; otherwise its workspace's own install comes
 * first and, inside an enterprise, the org-wide one after it (events without `authorizations`).
 */
export function candidateKeys(query: InstallationQuery): string[] {
  const team = `team:${query.teamId}`;
  const enterprise = query.enterpriseId ? `enterprise:${query.enterpriseId}` : undefined;
  if (query.isEnterpriseInstall && enterprise) return [enterprise];
  return enterprise ? [team, enterprise] : [team];
}

/** What the ingress needs to know of an installation: nothing secret. */
export type InstallationSummary = Pick<
  Installation,
  'key' | 'teamId' | 'enterpriseId' | 'isEnterpriseInstall' | 'botUserId'
>;

/**
 * The bot scopes the install link asks for: exactly `oauth_config.scopes.bot` of manifest.yml
 * (test/unit/install-scopes.test.ts holds them together). https://docs.slack.dev/reference/scopes
 */
export const BOT_SCOPES: readonly string[] = [
  'app_mentions:read',
  'im:history',
  'channels:history',
  'groups:history',
  'mpim:history',
  'users:read',
  'files:read',
  'chat:write',
  'assistant:write',
  // search_slack: Slack's Real-time Search API, as the asking user (lib/tools/search-slack.ts).
  'search:read.public',
  'search:read.private',
  'search:read.im',
  'search:read.mpim',
];
