import { loadWorkerConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { buildWorkerDeps } from '../lib/worker/worker-deps';
import { createWorkerHandler } from '../lib/worker/worker-handler';

/**
 * SQS FIFO entry point: answers each queued mention or DM in its thread.
 * Configuration is validated and clients are built once per cold start.
 */
export const handler = createWorkerHandler(buildWorkerDeps(loadWorkerConfig(), createLogger('slack-worker')));
