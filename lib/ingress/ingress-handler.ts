import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IngressConfig } from '../config';
import { fromFunctionUrlEvent, toFunctionUrlResult } from '../http/function-url';
import type { JobQueue } from '../queue/sqs-job-queue';
import { distributionIngress } from './distribution-ingress';
import { receiveSlackRequest } from './receive-slack-request';

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
    ? distributionIngress(
        deps.config.distribution,
        deps.logger,
        deps.dynamodb ? { dynamodb: deps.dynamodb } : {},
      )
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
