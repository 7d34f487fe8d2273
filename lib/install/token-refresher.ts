import type { WebClient } from '@slack/web-api';
import { SlackCallError } from '../errors';
import { call } from '../slack/web-api-call';

/** A refreshed token pair. */
export interface RefreshedTokens {
  botToken: string;
  /** The next refresh token: the one used is spent. */
  refreshToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Trades a refresh token for a new bot token and refresh token. */
export interface TokenRefresher {
  /** @throws {SlackCallError} `retryable` for network errors and 5xx; not for a refused refresh token. */
  refresh(refreshToken: string): Promise<RefreshedTokens>;
}

/**
 * `oauth.v2.access` with `grant_type=refresh_token`
 * (https://docs.slack.dev/reference/methods/oauth.v2.access,
 * https://docs.slack.dev/authentication/using-token-rotation): with token rotation a bot token
 * expires after 12 hours, and each refresh token is spent by its use. `client` is a WebClient
 * without a token (the method takes the app's client id and secret instead).
 */
export function slackTokenRefresher(
  client: WebClient,
  app: { clientId: string; clientSecret: string },
): TokenRefresher {
  return {
    async refresh(refreshToken) {
      const response = await call('oauth.v2.access', () =>
        client.oauth.v2.access({
          client_id: app.clientId,
          client_secret: app.clientSecret,
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
        }),
      );
      const { access_token: botToken, refresh_token: next, expires_in: expiresIn } = response;
      if (!botToken || !next || typeof expiresIn !== 'number') {
        throw new SlackCallError('oauth.v2.access', {
          slackError: 'incomplete_refresh_response',
          retryable: false,
          category: 'auth',
        });
      }
      return { botToken, refreshToken: next, expiresAt: Date.now() + expiresIn * 1000 };
    },
  };
}
