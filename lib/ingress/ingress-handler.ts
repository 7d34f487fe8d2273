import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { DistributionConfig, IngressConfig } from '../config';
import type { InstallationStore, SingleUseMarks } from '../install/dynamodb-installations';
import { cachedDirectory } from '../install/installation-directory';
import { openInstallationStore } from '../install/open-installation-store';
import type { JobQueue } from '../queue/sqs-job-queue';
import { oauthRoutes } from './oauth-routes';
import { type IngressRequest, type IngressResponse, receiveSlackRequest } from './receive-slack-request';

/**
 * Builds the ingress Lambda handler around its dependencies: parse the Function URL event →
 * `receiveSlackRequest` → map the result. `handlers/ingress.ts` calls this once at module scope.
 */
export function createIngressHandler(deps: {
  config: IngressConfig;
  queue: JobQueue;
  logger: Logger;
  /** Distribution mode: the installation store's client instead of the default one (local DynamoDB). */
  dynamodb?: DynamoDBClient;
}) {
  const distribution = deps.config.distribution
    ? distributionIngress(deps.config.distribution, deps.logger, deps.dynamodb)
    : undefined;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .handler(async (event) =>
      toFunctionUrlResult(
        await receiveSlackRequest(fromFunctionUrlEvent(event), {
          queue: deps.queue,
          signingSecret: deps.config.slackSigningSecret,
          botUserId: deps.config.botUserId,
          logger: deps.logger,
          ...distribution,
        }),
      ),
    );
}

/**
 * The ingress's part of distribution mode: the installation look-up per event, uninstall events
 * and the install routes, over the DynamoDB store. The store (and with it `@aws-sdk/client-dynamodb`)
 * is built on first use, so the ingress's cold start loads nothing more until an event or an
 * install request needs it; @slack/oauth loads only on the install routes (lib/ingress/oauth-routes.ts).
 */
function distributionIngress(config: DistributionConfig, logger: Logger, dynamodb?: DynamoDBClient) {
  let store: (InstallationStore & SingleUseMarks) | undefined;
  const lazy = new Proxy({} as InstallationStore & SingleUseMarks, {
    get: (_target, name) => {
      store ??= openInstallationStore(config, dynamodb).store;
      const method = store[name as keyof (InstallationStore & SingleUseMarks)];
      return typeof method === 'function' ? method.bind(store) : method;
    },
  });
  return { installations: cachedDirectory(lazy), oauth: oauthRoutes({ config, store: lazy, logger }) };
}

/**
 * Maps a Lambda Function URL event (payload format 2.0) to our request shape.
 * Function URLs lower-case header names and may deliver the body base64-encoded
 * (`isBase64Encoded: true`); the signature covers the decoded bytes.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
function fromFunctionUrlEvent(event: APIGatewayProxyEventV2): IngressRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  // Payload 2.0 moves the request's cookies out of the headers into `cookies`.
  if (event.cookies?.length) headers.cookie = event.cookies.join('; ');
  const body = event.body ?? '';
  return {
    method: event.requestContext?.http?.method?.toUpperCase() ?? 'GET',
    headers,
    rawBody: event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    query: event.rawQueryString ?? '',
  };
}

/** Maps our response to a Function URL result (cookies in their own field, as payload 2.0 wants). */
function toFunctionUrlResult(response: IngressResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: response.statusCode,
    headers: response.headers ?? {},
    body: response.body ?? '',
    ...(response.cookies?.length ? { cookies: response.cookies } : {}),
  };
}
