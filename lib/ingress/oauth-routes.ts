import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InstallProvider, Installation as OAuthInstallation } from '@slack/oauth';
import type { DistributionConfig } from '../config';
import type { InstallationStore, SingleUseMarks } from '../install/dynamodb-installations';
import { InstallationStoreError, InstallStateError } from '../install/errors';
import { singleUseStateStore } from '../install/install-state';
import { BOT_SCOPES, type Installation, installationKey } from '../install/installation';
import type { Logger } from '../logger';
import type { IngressRequest, IngressResponse } from './receive-slack-request';

/** The page with the "Add to Slack" link (a `state` issued and bound to the browser by a cookie). */
export const INSTALL_PATH = '/slack/install';
/**
 * Where Slack sends the installer back with `code` and `state`: manifest.yml `oauth_config.redirect_urls`.
 */
export const REDIRECT_PATH = '/slack/oauth_redirect';

/**
 * The OAuth v2 install flow (https://docs.slack.dev/authentication/installing-with-oauth) on the
 * ingress's Function URL, with @slack/oauth's `InstallProvider` doing the protocol: the install
 * page issues a signed, single-use `state` (lib/install/install-state.ts) and binds it to the
 * browser with a cookie; the redirect checks both, trades `code` with `oauth.v2.access`
 * (https://docs.slack.dev/reference/methods/oauth.v2.access), and the installation is saved
 * encrypted (our `installationStore`). No `redirect_uri` is sent: Slack then uses the app's one
 * configured Redirect URL, so the ingress never builds URLs from a request's Host header.
 * The browser gets a plain page either way; the log gets the reason (never a code, state or token).
 * InstallProvider takes Node's request and response; this adapts the Function URL's to them.
 */
export function oauthRoutes(deps: {
  config: DistributionConfig;
  store: InstallationStore & SingleUseMarks;
  logger: Logger;
}): (request: IngressRequest) => Promise<IngressResponse> {
  const { config, store, logger } = deps;
  let provider: InstallProvider | undefined;
  const installer = () => {
    // Loaded on the first install request only: events never need it.
    const { InstallProvider: Provider } = require('@slack/oauth') as typeof import('@slack/oauth');
    provider ??= new Provider({
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      stateStore: singleUseStateStore({ secret: config.stateSecret, marks: store }),
      installationStore: {
        storeInstallation: async (installation) => {
          await store.save(fromOAuth(installation as OAuthInstallation, Date.now()));
        },
        fetchInstallation: async () => {
          throw new Error('the install flow never fetches installations');
        },
      },
      installUrlOptions: { scopes: [...BOT_SCOPES] },
      renderHtmlForInstallPath: installPage,
      // Slack's authorize page beside its Web API:
      // https://slack.com/api/ → https://slack.com/oauth/v2/authorize.
      authorizationUrl: new URL(
        '../oauth/v2/authorize',
        config.apiUrl ?? 'https://slack.com/api/',
      ).toString(),
      // The ingress has seconds: oauth.v2.access and auth.test, no retries.
      clientOptions: {
        ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
        timeout: 2_000,
        retryConfig: { retries: 0 },
      },
      // Its own log lines would carry error objects; ours below carry the reason and ids only.
      logger: silentLogger,
    });
    return provider;
  };

  return async (request) => {
    const res = new CollectedResponse();
    const req = {
      method: request.method,
      url: `${request.path ?? '/'}${request.query ? `?${request.query}` : ''}`,
      headers: { host: request.headers.host ?? 'localhost', cookie: request.headers.cookie },
    } as unknown as IncomingMessage;
    if (request.path === INSTALL_PATH) {
      await installer().handleInstallPath(req, res as unknown as ServerResponse);
      logger.info('install page served');
      return res.result();
    }
    await installer().handleCallback(req, res as unknown as ServerResponse, {
      successAsync: async (installation) => {
        const saved = fromOAuth(installation as OAuthInstallation, Date.now());
        logger.info('installed', {
          installation: saved.key,
          team: saved.teamId,
          enterprise: saved.enterpriseId,
          orgWide: saved.isEnterpriseInstall,
          rotating: saved.refreshToken !== undefined,
        });
        const name = installation.isEnterpriseInstall
          ? installation.enterprise?.name
          : installation.team?.name;
        res.page(
          200,
          'Installed',
          `The bot is installed in ${escapeHtml(name ?? saved.key)}. You can close this page.`,
        );
      },
      failureAsync: async (error) => {
        const reason = error instanceof InstallStateError ? error.reason : error.code;
        const slackError = (error as { data?: { error?: string } }).data?.error;
        logger.warn('install refused', { reason, ...(slackError ? { slackError } : {}) });
        // Our side or the network (try again later) vs. a refused state, code or consent.
        const ours =
          error instanceof InstallationStoreError || /request_error|http_error/.test(String(error.code));
        res.page(
          ours ? 502 : 400,
          'Not installed',
          `The installation did not complete (${escapeHtml(slackError ?? reason)}). ` +
            `<a href="${INSTALL_PATH}">Start again</a>.`,
        );
      },
    });
    return res.result();
  };
}

/**
 * @slack/oauth's installation
 * (https://docs.slack.dev/tools/node-slack-sdk/reference/oauth/interfaces/Installation) as we store it.
 */
function fromOAuth(i: OAuthInstallation, now: number): Omit<Installation, 'version'> {
  if (!i.bot?.token || !i.bot.userId) throw new Error('the installation has no bot token');
  const where = {
    teamId: i.team?.id,
    enterpriseId: i.enterprise?.id,
    isEnterpriseInstall: i.isEnterpriseInstall === true,
  };
  return {
    key: installationKey(where),
    ...where,
    appId: i.appId,
    botUserId: i.bot.userId,
    botId: i.bot.id,
    scopes: i.bot.scopes ?? [],
    installerUserId: i.user?.id,
    botToken: i.bot.token,
    refreshToken: i.bot.refreshToken,
    // @slack/oauth keeps seconds.
    expiresAt: i.bot.expiresAt === undefined ? undefined : i.bot.expiresAt * 1000,
    installedAt: now,
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family: sans-serif; max-width: 40em; margin: 4em ` +
  `auto"><h1>${title}</h1><p>${body}</p></body></html>`;

/** The install page: the link to Slack's authorize page, as a plain "Add to Slack" link. */
const installPage = (url: string) =>
  page(
    'Add GPT Bot to Slack',
    `<a href="${escapeHtml(url)}">Add to Slack</a> (you pick the workspace on Slack's page).`,
  );

/** The parts of `ServerResponse` InstallProvider uses, collected into an {@link IngressResponse}. */
class CollectedResponse {
  statusCode = 200;
  private readonly headers = new Map<string, string | string[]>();
  private body = '';
  setHeader(name: string, value: string | string[]) {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  writeHead(status: number, headers?: Record<string, string>) {
    this.statusCode = status;
    for (const [name, value] of Object.entries(headers ?? {})) this.setHeader(name, value);
    return this;
  }
  end(body?: string) {
    this.body = body ?? '';
    return this;
  }
  page(status: number, title: string, body: string) {
    this.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(page(title, body));
  }
  result(): IngressResponse {
    const { 'set-cookie': cookies, ...rest } = Object.fromEntries(this.headers);
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    for (const [name, value] of Object.entries(rest)) headers[name] = String(value);
    return {
      statusCode: this.statusCode,
      headers,
      body: this.body,
      ...(cookies ? { cookies: Array.isArray(cookies) ? cookies : [cookies] } : {}),
    };
  }
}

const silentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => 'error' as never,
  setName: () => undefined,
};
