import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createIngressHandler } from '../lib/ingress/ingress-handler';
import { createMetrics } from '../lib/metrics';
import { sqsJobQueue } from '../lib/queue/sqs-job-queue';
import { signSlackBody } from '../lib/slack/signature';
import { buildWorkerDeps } from '../lib/worker/worker-deps';
import { createWorkerHandler } from '../lib/worker/worker-handler';
import { serveFunctionUrl } from '../sandbox/function-url-server';
import { lambdaContext } from '../sandbox/lambda-context';
import { type PollResult, pollOnce, type SqsBatchHandler } from '../sandbox/local-event-source';
import { LOCAL_SIGNING_SECRET, type LocalStack, startLocalStack } from '../sandbox/local-stack';

/** A signed POST to the local ingress and when it started and ended (`performance.now()`). */
export interface Posted {
  status: number;
  startedAt: number;
  endedAt: number;
}

/** The whole bot on local peers, as `npm start` runs it, for the worker-side figures. */
export interface LocalBot {
  stack: LocalStack;
  /** SQS client of the worker and the event source mapping. */
  sqs: SQSClient;
  worker: SqsBatchHandler;
  /** A worker-shaped Lambda context (two minutes, as deployed). */
  context: () => ReturnType<typeof lambdaContext>;
  /** POSTs a Slack Events API body to the ingress's Function URL, signed as Slack signs it. */
  post(body: unknown): Promise<Posted>;
  /** One turn of the event source mapping, without waiting for messages (undefined if none). */
  deliver(): Promise<PollResult | undefined>;
  close(): Promise<void>;
}

/**
 * Starts the local peers, the real ingress handler behind a local Function URL and the real
 * worker handler (the same `lib/` code the bundles hold), with the deployed defaults
 * (an edit a second, an append every 600 ms: `EDIT_INTERVAL_MS`, `APPEND_INTERVAL_MS` in lib/config.ts). Answers are shown on the edit
 * path unless `streaming: 'native'`, so figures stay comparable across runs of this bench.
 * Logs are silenced: the figures here are not about logging.
 */
export async function startLocalBot(
  options: { streaming?: 'native' | 'edit'; writeBudget?: 'shared' | 'off' } = {},
): Promise<LocalBot> {
  const stack = await startLocalStack({
    tokenDelayMs: 0,
    env: {
      SLACK_STREAMING: options.streaming ?? 'edit',
      SLACK_WRITE_BUDGET: options.writeBudget ?? 'shared',
    },
  });
  // Set in the constructor: the worker's per-record child loggers copy it from there.
  const logger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
  const ingressSqs = stack.sqs.client();
  const ingress = createIngressHandler({
    config: stack.ingressConfig,
    queue: sqsJobQueue(ingressSqs, stack.queue.queueUrl),
    logger,
  });
  const server = await serveFunctionUrl(ingress);
  const sqs = stack.sqs.client();
  const deps = buildWorkerDeps(
    { ...stack.workerConfig, queue: { ...stack.workerConfig.queue, url: stack.queue.queueUrl } },
    logger,
    // EMF lines would interleave with the bench's own output.
    { sqs, metrics: createMetrics('bench', 'slack-worker', { write: () => undefined }) },
  );
  const worker = createWorkerHandler(deps);
  const context = () => lambdaContext('worker', 120_000);
  return {
    stack,
    sqs,
    worker,
    context,
    async post(body) {
      const raw = JSON.stringify(body);
      const timestamp = Math.floor(Date.now() / 1000);
      const startedAt = performance.now();
      const response = await fetch(`${server.origin}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signSlackBody(LOCAL_SIGNING_SECRET, timestamp, raw),
        },
        body: raw,
      });
      await response.arrayBuffer();
      return { status: response.status, startedAt, endedAt: performance.now() };
    },
    deliver: () => pollOnce(sqs, stack.queue, worker, { context, maxMessages: 1, waitSeconds: 0 }),
    async close() {
      deps.close();
      await server.close();
      await stack.close();
    },
  };
}
