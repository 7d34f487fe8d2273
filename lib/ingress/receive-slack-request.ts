import type { Logger } from '@aws-lambda-powertools/logger';
import { BadInputError, SignatureError } from '../errors';
import type { InstallationDirectory } from '../install/installation-directory';
import type { JobQueue } from '../queue/sqs-job-queue';
import { classifySlackEvent } from '../slack/classify-event';
import { verifySlackSignature } from '../slack/signature';
import { INSTALL_PATH, REDIRECT_PATH } from './oauth-routes';
import { isInteractionRequest, parseInteractionBody, recordInteraction } from './receive-interaction';

/** Slack bodies are small; anything larger is not an Events API request. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An HTTP request as the ingress sees it, whatever carried it (Function URL, local server). */
export interface IngressRequest {
  method: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  /** The URL's path (`/` for events) and query string without `?`, where the carrier gives them. */
  path?: string;
  query?: string;
}

/** The HTTP answer. */
export interface IngressResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  /** `Set-Cookie` values (a Function URL result carries them apart from the headers). */
  cookies?: string[];
}

/** What the use case needs. */
export interface IngressDeps {
  queue: JobQueue;
  signingSecret: string;
  botUserId?: string | undefined;
  logger: Logger;
  /**
   * Distribution mode: the installations. An event of a workspace without one is answered 200 and
   * not queued; `app_uninstalled` and `tokens_revoked` remove one.
   */
  installations?: InstallationDirectory | undefined;
  /**
   * Distribution mode: `GET /slack/install` and `GET /slack/oauth_redirect` (lib/ingress/oauth-routes.ts).
   */
  oauth?: ((request: IngressRequest) => Promise<IngressResponse>) | undefined;
}

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): IngressResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

// A retry cannot fix a bad request: ask Slack not to send it again.
// https://api.slack.com/apis/events-api#graceful_retries
const noRetry = { 'x-slack-no-retry': '1' };

/**
 * Handles one Slack Events API request: verify, answer `url_verification`, drop what must not be
 * answered, and queue the rest. Interactivity requests (form bodies, e.g. a feedback click) are
 * verified the same way and handed to `recordInteraction`; a feedback vote is queued too. Slack
 * wants a 2xx within 3 seconds, so only the queue send is awaited. A 2xx is returned only when the
 * event is queued (or deliberately ignored); a failed send answers 503 so Slack retries, and the
 * retry carries the same `event_id` for deduplication.
 */
export async function receiveSlackRequest(
  request: IngressRequest,
  deps: IngressDeps,
): Promise<IngressResponse> {
  const { logger } = deps;
  const now = Date.now();
  const retryNum = request.headers['x-slack-retry-num'];
  const retry = retryNum ? { retryNum, retryReason: request.headers['x-slack-retry-reason'] } : {};

  if (
    deps.oauth &&
    request.method === 'GET' &&
    (request.path === INSTALL_PATH || request.path === REDIRECT_PATH)
  ) {
    return deps.oauth(request);
  }
  if (request.method !== 'POST') {
    logger.warn('rejected request', { reason: 'method not allowed', method: request.method });
    return json(405, { error: 'method_not_allowed' }, { allow: 'POST', ...noRetry });
  }
  if (request.rawBody.length > MAX_BODY_BYTES) {
    logger.warn('rejected request', { reason: 'body too large', bytes: request.rawBody.length });
    return json(413, { error: 'body_too_large' }, noRetry);
  }
  try {
    verifySlackSignature(request, deps.signingSecret, Math.floor(now / 1000));
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    logger.warn('rejected request', { reason: error.reason });
    // No detail for the caller: the reason is in the log.
    return { statusCode: 401, headers: noRetry, body: '' };
  }

  if (isInteractionRequest(request.headers, request.rawBody)) {
    // A button click (feedback), signed like events: a vote is queued for the worker to count.
    let outcome: ReturnType<typeof recordInteraction>;
    try {
      outcome = recordInteraction(parseInteractionBody(request.rawBody), logger, now);
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
      logger.warn('rejected interaction', { reason: 'bad input', field: error.field, detail: error.message });
      return json(400, { error: 'bad_request', field: error.field, message: error.message }, noRetry);
    }
    if (outcome.kind === 'feedback') {
      try {
        await deps.queue.enqueue(outcome.job);
      } catch (error) {
        // Slack shows the user that the click failed; a click is not retried by Slack.
        logger.error('feedback vote not queued', { error: error as Error });
        return json(503, { error: 'queue_unavailable' });
      }
    }
    return { statusCode: 200, body: '' };
  }

  let decision: ReturnType<typeof classifySlackEvent>;
  try {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString('utf8'));
    } catch (cause) {
      throw new BadInputError('body', 'is not valid JSON', { cause });
    }
    decision = classifySlackEvent(body, { botUserId: deps.botUserId, now });
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    logger.warn('rejected request', { reason: 'bad input', field: error.field, detail: error.message });
    return json(400, { error: 'bad_request', field: error.field, message: error.message }, noRetry);
  }

  switch (decision.kind) {
    case 'challenge':
      return json(200, { challenge: decision.challenge });
    case 'ignore':
      logger.info('ignored event', { eventId: decision.eventId, reason: decision.reason, ...retry });
      return { statusCode: 200, body: '' };
    case 'installation': {
      const { change } = decision;
      const keys = { eventId: change.eventId, team: change.teamId, event: change.type, ...retry };
      if (!deps.installations) {
        logger.info('ignored event', { ...keys, reason: 'one workspace: no installations to change' });
        return { statusCode: 200, body: '' };
      }
      try {
        await deps.installations.apply(change, logger.createChild({ persistentKeys: keys }));
      } catch (error) {
        logger.error('installation not changed; Slack will retry', { ...keys, error: error as Error });
        return json(503, { error: 'installations_unavailable' });
      }
      return { statusCode: 200, body: '' };
    }
    case 'answer':
    case 'prompts': {
      const { job } = decision;
      const keys = {
        eventId: job.eventId,
        team: job.teamId,
        channel: job.channel,
        thread: job.threadTs,
        kind: decision.kind,
        ...retry,
      };
      if (deps.installations) {
        let installation: Awaited<ReturnType<InstallationDirectory['find']>>;
        try {
          installation = await deps.installations.find(job);
        } catch (error) {
          logger.error('installation look-up failed; Slack will retry', { ...keys, error: error as Error });
          return json(503, { error: 'installations_unavailable' });
        }
        if (!installation) {
          logger.info('no installation for this workspace; event not queued', {
            ...keys,
            enterprise: job.enterpriseId,
          });
          return { statusCode: 200, body: '' };
        }
        if (job.user === installation.botUserId) {
          logger.info('ignored event', { eventId: job.eventId, reason: 'own message', ...retry });
          return { statusCode: 200, body: '' };
        }
        if (job.kind !== 'prompts') job.botUserId ??= installation.botUserId;
      }
      try {
        await deps.queue.enqueue(job);
      } catch (error) {
        logger.error('event not queued; Slack will retry', { ...keys, error: error as Error });
        return json(503, { error: 'queue_unavailable' });
      }
      logger.info('queued event', keys);
      return { statusCode: 200, body: '' };
    }
  }
}
