import { SQSClient } from '@aws-sdk/client-sqs';
import { LogLevel, WebClient } from '@slack/web-api';
import OpenAI from 'openai';
import type { WorkerConfig } from '../config';
import { momentoEventClaims } from '../history/event-claims';
import { MomentoCache } from '../history/momento-cache';
import { createMomentoClient } from '../history/momento-client';
import { momentoThreadHistory } from '../history/thread-history';
import { openAiChat } from '../llm/openai-chat';
import { o200kTokenCounter } from '../llm/prompt';
import type { Logger } from '../logger';
import { sqsRetryScheduler } from '../queue/sqs-retry-scheduler';
import { slackReplySurface } from '../slack/reply-surface';
import type { WorkerDeps } from './worker-handler';

/**
 * Builds the worker's clients and adapters from configuration, with explicit limits: the queue
 * does the long-term retrying, so each client retries briefly and times out well inside the
 * function's timeout. Used by `handlers/worker.ts` once per cold start, and by the sandbox and
 * tests, so every path runs the same clients.
 * @param overrides an SQS client to use instead of the default one (the sandbox's peer).
 */
export function buildWorkerDeps(
  config: WorkerConfig,
  logger: Logger,
  overrides: { sqs?: SQSClient } = {},
): WorkerDeps & { close(): void } {
  const slack = new WebClient(config.slack.botToken, {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    timeout: 10_000,
    // The default is ten retries over ~30 minutes; a worker invocation has two minutes. No client
    // retries at all: a post retried after a timeout may appear twice. LiveReply retries what is
    // safe to retry (edits, and posts after a 429).
    retryConfig: { retries: 0 },
    // 429s come back to us with Retry-After, so streaming edits are skipped, not queued up.
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
  const openai = new OpenAI({
    apiKey: config.openai.apiKey,
    ...(config.openai.baseUrl ? { baseURL: config.openai.baseUrl } : {}),
    timeout: config.openai.timeoutMs,
    // One quick retry before the stream starts; answerMention retries further within its deadline.
    maxRetries: 1,
  });
  const momento = createMomentoClient(config.momento);
  const cache = new MomentoCache(momento, config.momento.cache);
  // `useQueueUrlAsEndpoint: false` honours AWS_ENDPOINT_URL_SQS over the host inside QUEUE_URL.
  const sqs = overrides.sqs ?? new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 3 });
  return {
    config,
    logger,
    surface: slackReplySurface(slack),
    llm: openAiChat(openai, { model: config.openai.model, temperature: config.openai.temperature }),
    history: momentoThreadHistory(cache, config.momento.ttlSeconds),
    claims: momentoEventClaims(cache),
    countTokens: o200kTokenCounter,
    retries: sqsRetryScheduler(sqs, config.queue.url, logger),
    close() {
      // Not `momento.close()`: the SDK then re-creates a channel in a bad state and schedules its
      // closing 2× the client timeout later (120 s for the control client), holding the process
      // open. Idle gRPC channels hold nothing open, so leaving them is the clean exit.
      if (!overrides.sqs) sqs.destroy();
    },
  };
}
