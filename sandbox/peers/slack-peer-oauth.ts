import type { SlackArgs, SlackResponse } from './slack-peer-methods';

/**
 * The Slack peer's OAuth v2 side, for distribution mode: the authorize page (which, instead of
 * asking a person, approves at once for the workspace or organization named by `team`), and
 * `oauth.v2.access` with the `authorization_code` and `refresh_token` grants
 * (https://docs.slack.dev/reference/methods/oauth.v2.access). Codes and refresh tokens are single
 * use; with token rotation the bot tokens it issues expire and are refused after that
 * (`token_expired`; https://docs.slack.dev/authentication/using-token-rotation).
 */

/** A workspace the app can be installed in, with the bot user the app gets there. */
export interface PeerWorkspace {
  teamId: string;
  name: string;
  botUserId: string;
  botId: string;
  /** Its Enterprise Grid organization, if any. */
  enterpriseId?: string;
}

/** An Enterprise Grid organization: an org-wide install gets one bot user for all its workspaces. */
export interface PeerEnterprise {
  enterpriseId: string;
  name: string;
  botUserId: string;
  botId: string;
}

/** Options of the OAuth side (`SlackPeerOptions.oauth`). */
export interface PeerOAuthOptions {
  clientId: string;
  clientSecret: string;
  workspaces: PeerWorkspace[];
  enterprises?: PeerEnterprise[];
  /** The app's one configured Redirect URL, used when the authorize request names none. */
  redirectUrl?: string;
  /** Token rotation on: tokens expire after {@link tokenLifetimeMs} and come with refresh tokens. */
  tokenRotation?: boolean;
  /** Default 12 hours, as Slack's. */
  tokenLifetimeMs?: number;
}

/** Who a bot token acts as. */
export interface TokenIdentity {
  token: string;
  /** The installation: `team:T…` or `enterprise:E…`. */
  installation: string;
  teamId: string | undefined;
  enterpriseId: string | undefined;
  botUserId: string;
  botId: string;
}

/** The OAuth state of the peer (see {@link peerOAuth}). */
export interface PeerOAuth {
  /** Settable once the app's Redirect URL is known (the local ingress's port). */
  redirectUrl: string | undefined;
  /** Makes the authorize page answer `error=access_denied` next time (the user pressed Cancel). */
  denyNext(): void;
  /** `GET /oauth/v2/authorize?…`: where the browser goes next (the redirect with `code` and `state`). */
  authorize(query: URLSearchParams): { status: number; location?: string; body?: string };
  /** `oauth.v2.access`. `basic`: the client id and secret from an HTTP Basic header, if sent. */
  access(args: SlackArgs, basic: { id: string; secret: string } | undefined): SlackResponse;
  /** Who `token` is, or the error Slack answers for it; undefined when the peer did not issue it. */
  identify(token: string): TokenIdentity | { error: string } | undefined;
  /** Revokes every token of an installation (`team:T…` / `enterprise:E…`), as an uninstall does. */
  revoke(installation: string): void;
  /** Issued tokens, newest last (bot tokens only). */
  readonly tokens: readonly TokenIdentity[];
  /** How many refresh grants were answered with a new pair. */
  readonly refreshes: number;
}

const CODE_TTL_MS = 10 * 60_000;

export function peerOAuth(options: PeerOAuthOptions, now: () => number): PeerOAuth {
  const lifetime = options.tokenLifetimeMs ?? 12 * 60 * 60_000;
  const codes = new Map<
    string,
    { installation: TokenIdentity; expires: number; redirect: string | undefined }
  >();
  const live = new Map<string, { identity: TokenIdentity; expires: number | undefined }>();
  const refreshTokens = new Map<string, TokenIdentity>();
  const revoked = new Set<string>();
  const issued: TokenIdentity[] = [];
  let counter = 0;
  let refreshes = 0;
  let deny = false;

  const target = (team: string | null): Omit<TokenIdentity, 'token'> | undefined => {
    const ws =
      options.workspaces.find((w) => w.teamId === team) ?? (team ? undefined : options.workspaces[0]);
    if (ws)
      return {
        installation: `team:${ws.teamId}`,
        teamId: ws.teamId,
        enterpriseId: ws.enterpriseId,
        botUserId: ws.botUserId,
        botId: ws.botId,
      };
    const org = options.enterprises?.find((e) => e.enterpriseId === team);
    if (org)
      return {
        installation: `enterprise:${org.enterpriseId}`,
        teamId: undefined,
        enterpriseId: org.enterpriseId,
        botUserId: org.botUserId,
        botId: org.botId,
      };
    return undefined;
  };

  const issue = (who: Omit<TokenIdentity, 'token'>) => {
    const n = ++counter;
    const place = who.teamId ?? who.enterpriseId;
    const token = `${options.tokenRotation ? 'xoxe.' : ''}xoxb-${place}-${String(n).padStart(4, '0')}`;
    const identity = { ...who, token };
    live.set(token, { identity, expires: options.tokenRotation ? now() + lifetime : undefined });
    issued.push(identity);
    const grant: Record<string, unknown> = { access_token: token, token_type: 'bot' };
    if (options.tokenRotation) {
      const refresh = `xoxe-1-${place}-${String(n).padStart(4, '0')}`;
      refreshTokens.set(refresh, identity);
      grant.refresh_token = refresh;
      grant.expires_in = Math.round(lifetime / 1000);
    }
    return grant;
  };

  const workspaceName = (id: string | undefined) =>
    options.workspaces.find((w) => w.teamId === id)?.name ??
    options.enterprises?.find((e) => e.enterpriseId === id)?.name;

  return {
    redirectUrl: options.redirectUrl,
    denyNext() {
      deny = true;
    },
    authorize(query) {
      if (query.get('client_id') !== options.clientId) return { status: 400, body: 'invalid_client_id' };
      if (!query.get('scope')) return { status: 400, body: 'invalid_scope' };
      const redirect = query.get('redirect_uri') ?? this.redirectUrl;
      if (!redirect) return { status: 400, body: 'no redirect url configured' };
      const back = new URL(redirect);
      const state = query.get('state');
      if (state !== null) back.searchParams.set('state', state);
      if (deny) {
        deny = false;
        back.searchParams.set('error', 'access_denied');
        return { status: 302, location: back.toString() };
      }
      const who = target(query.get('team'));
      if (!who) return { status: 400, body: 'unknown team' };
      const code = `code-${++counter}-${Math.random().toString(36).slice(2)}`;
      codes.set(code, {
        installation: { ...who, token: '' },
        expires: now() + CODE_TTL_MS,
        redirect: query.get('redirect_uri') ?? undefined,
      });
      back.searchParams.set('code', code);
      return { status: 302, location: back.toString() };
    },
    access(args, basic) {
      const id = basic?.id ?? (typeof args.client_id === 'string' ? args.client_id : undefined);
      const secret =
        basic?.secret ?? (typeof args.client_secret === 'string' ? args.client_secret : undefined);
      if (id !== options.clientId) return { ok: false, error: 'invalid_client_id' };
      if (secret !== options.clientSecret) return { ok: false, error: 'bad_client_secret' };
      if (args.grant_type === 'refresh_token') {
        const old = refreshTokens.get(String(args.refresh_token ?? ''));
        // Single use: a refresh token is gone once traded.
        if (!old || revoked.has(old.installation)) return { ok: false, error: 'invalid_refresh_token' };
        refreshTokens.delete(String(args.refresh_token));
        refreshes++;
        const { token: _spent, ...who } = old;
        return {
          ok: true,
          app_id: 'A0LOCAL',
          bot_user_id: who.botUserId,
          enterprise: who.enterpriseId ? { id: who.enterpriseId } : null,
          team: who.teamId ? { id: who.teamId } : null,
          is_enterprise_install: who.teamId === undefined,
          ...issue(who),
        };
      }
      const code = codes.get(String(args.code ?? ''));
      if (!code || code.expires < now()) return { ok: false, error: 'invalid_code' };
      codes.delete(String(args.code));
      if (code.redirect !== undefined && args.redirect_uri !== code.redirect)
        return { ok: false, error: 'bad_redirect_uri' };
      const { token: _none, ...who } = code.installation;
      revoked.delete(who.installation);
      return {
        ok: true,
        app_id: 'A0LOCAL',
        scope: 'app_mentions:read,chat:write',
        bot_user_id: who.botUserId,
        team: who.teamId ? { id: who.teamId, name: workspaceName(who.teamId) } : null,
        enterprise: who.enterpriseId ? { id: who.enterpriseId, name: workspaceName(who.enterpriseId) } : null,
        is_enterprise_install: who.teamId === undefined,
        authed_user: { id: 'U0INSTALLER' },
        ...issue(who),
      };
    },
    identify(token) {
      const found = live.get(token);
      if (!found) return undefined;
      if (revoked.has(found.identity.installation)) return { error: 'token_revoked' };
      if (found.expires !== undefined && found.expires <= now()) return { error: 'token_expired' };
      return found.identity;
    },
    revoke(installation) {
      revoked.add(installation);
    },
    tokens: issued,
    get refreshes() {
      return refreshes;
    },
  };
}
