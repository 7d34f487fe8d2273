import type { Context, SQSEvent } from 'aws-lambda';
import { loadParametersConfig, loadWorkerConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { lazyParameterProvider, rebuiltOnRotation, WORKER_SECRETS } from '../lib/secrets';
import { workerDepsFor } from '../lib/worker/worker-deps';
import { createWorkerHandler } from '../lib/worker/worker-handler';

/**
 * SQS FIFO entry point: answers each queued mention or DM in its thread.
 * Configuration is validated and clients are built once per cold start, with the keys from the
 * environment or, in AWS, from Parameter Store (lib/secrets.ts); a rotated key rebuilds them.
 */
const logger = createLogger('slack-worker');
const parameters = lazyParameterProvider();
const current = rebuiltOnRotation(
  WORKER_SECRETS,
  loadParametersConfig(),
  (env) => createWorkerHandler(workerDepsFor(loadWorkerConfig(env), logger, { parameters })),
  {
    provider: parameters,
    onStaleRead: (error) =>
      logger.warn('could not re-read parameters; keeping the current values', { error: error as Error }),
  },
);
current().catch((error: Error) => logger.error('cold start failed', { error }));

export const handler = async (event: SQSEvent, context: Context) => (await current())(event, context);
