import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LogLevel, WebClient } from '@slack/web-api';
import OpenAI from 'openai';
import type { WorkerConfig } from '../config';
import { slackFileDownloader } from '../context/file-downloader';
import { slackThreadReader } from '../context/thread-reader';
import { slackUserNames } from '../context/user-names';
import { parameterChannelSettings } from '../governance/channel-settings';
import { estimateAnswerTokens } from '../governance/daily-quota';
import { createGovernance } from '../governance/governance';
import { momentoGovernanceStore } from '../governance/governance-store';
import { slackEphemeral } from '../governance/slack-ephemeral';
import { momentoEventClaims } from '../history/event-claims';
import { momentoFeedbackVotes } from '../history/feedback-votes';
import { MomentoCache } from '../history/momento-cache';
import { createMomentoClient } from '../history/momento-client';
import { momentoStreamingAvailability } from '../history/streaming-availability';
import { momentoThreadHistory } from '../history/thread-history';
import { measuredChatModel } from '../llm/measured-chat';
import { MODEL_CALL_BUDGET } from '../llm/model-call-budget';
import { openAiChat } from '../llm/openai-chat';
import { o200kTokenCounter } from '../llm/prompt';
import type { Logger } from '../logger';
import { createMetrics } from '../metrics';
import type { RetryScheduler } from '../queue/sqs-retry-scheduler';
import { replyOpener } from '../reply/open-reply';
import { slackWrites } from '../reply/slack-writes';
import { momentoWindowCounter, sharedWriteBudget } from '../reply/write-budget';
import { lazyParameterProvider } from '../secrets';
import { slackAssistantThreads } from '../slack/assistant-threads';
import { PLACEHOLDER, STREAMING_REFUSED_NOTE, THINKING_STATUS } from './notices';
import { observeRateLimits, observeReplyPaths } from './observers';
import type { WorkerDeps } from './worker-handler';

/** The thread, names and files of one answer must be read within this (bounded by time left too). */
export const CONTEXT_TIMEOUT_MS = 10_000;

/**
 * Builds the worker's clients and adapters from configuration, with explicit limits: the queue
 * does the long-term retrying, so each client retries briefly and times out well inside the
 * function's timeout. Used by `handlers/worker.ts` once per cold start, and by the sandbox and
 * tests, so every path runs the same clients.
 * @param overrides an SQS client to use instead of the default one (the sandbox's peer); the
 *   Parameter Store provider shared with the secrets; a metrics writer; a clock for the guards.
 */
export function buildWorkerDeps(
  config: WorkerConfig,
  logger: Logger,
  overrides: { sqs?: SQSClient; parameters?: () => SSMProvider; metrics?: Metrics; now?: () => Date } = {},
): WorkerDeps & { close(): void } {
  const slack = new WebClient(config.slack.botToken, {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    timeout: config.slack.timeoutMs,
    // The default is ten retries over ~30 minutes; a worker invocation has two minutes. No client
    // retries at all: a post retried after a timeout may appear twice. The reply adapters retry what
    // is safe to retry (edits, and posts after a 429 or after finding them absent from the thread).
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
    // Part of the per-event cap on model requests (lib/llm/model-call-budget.ts).
    maxRetries: MODEL_CALL_BUDGET.sdkMaxRetries,
  });
  const momento = createMomentoClient(config.momento);
  const cache = new MomentoCache(momento, config.momento.cache);
  const metrics = overrides.metrics ?? createMetrics(config.metrics.namespace, 'slack-worker');
  // Every Slack write of the replies, counted when Slack answers 429 (a metric per method).
  const writes = observeRateLimits(slackWrites(slack), metrics);
  const { governance: g } = config;
  const governance = createGovernance({
    policy: { channels: g.allowedChannels, users: g.allowedUsers },
    limits: { user: g.userDailyTokenLimit, team: g.teamDailyTokenLimit },
    store: momentoGovernanceStore(cache),
    channelSettings: g.channelSettingsParameter
      ? parameterChannelSettings({
          provider: overrides.parameters ?? lazyParameterProvider(),
          parameterName: g.channelSettingsParameter,
          maxAgeSeconds: g.maxAgeSeconds,
          logger,
        })
      : undefined,
    postEphemeral: slackEphemeral(slack),
    estimate: (job) =>
      estimateAnswerTokens(job, {
        systemPrompt: config.openai.systemPrompt,
        historyTokenBudget: config.openai.historyTokenBudget,
      }),
    replyInThread: (channel, threadTs, text, eventId) =>
      writes.post({ channel, threadTs, text, tag: { eventId, chunk: 0 } }),
    metrics,
    ...(overrides.now ? { now: overrides.now } : {}),
  });
  let sqs = overrides.sqs;
  const retries = lazyRetryScheduler(async () => {
    // Only a failed record needs SQS (the event source mapping receives and deletes): loading
    // `@aws-sdk/client-sqs` and building its client cost ~60 ms, so not at every cold start. Our
    // module is bundled (esbuild turns this import into a require of it); it requires the SDK.
    const { retrySqsClient, sqsRetryScheduler } = await import('../queue/sqs-retry-scheduler');
    sqs ??= retrySqsClient();
    return sqsRetryScheduler(sqs, config.queue.url, logger);
  }, logger);
  return {
    config,
    logger,
    replies: observeReplyPaths(
      replyOpener({
        slack: writes,
        mode: config.slack.streaming,
        availability: momentoStreamingAvailability(cache),
        editIntervalMs: config.slack.updateIntervalMs,
        appendIntervalMs: config.slack.appendIntervalMs,
        texts: { placeholder: PLACEHOLDER, status: THINKING_STATUS, refusedNote: STREAMING_REFUSED_NOTE },
        ...(config.slack.writeBudget
          ? {
              budget: sharedWriteBudget(momentoWindowCounter(cache), { ...config.slack.writeBudget, logger }),
            }
          : {}),
      }),
      metrics,
    ),
    assistant: slackAssistantThreads(slack),
    metrics,
    governance,
    llm: measuredChatModel(
      openAiChat(openai, { model: config.openai.model, temperature: config.openai.temperature }),
      { metrics, countTokens: o200kTokenCounter, logger },
    ),
    history: momentoThreadHistory(cache, config.momento.ttlSeconds),
    claims: momentoEventClaims(cache),
    countTokens: o200kTokenCounter,
    context: {
      threads: slackThreadReader(slack),
      names: slackUserNames(slack, cache, { ttlSeconds: config.momento.userNameTtlSeconds }),
      files: slackFileDownloader({ botToken: config.slack.botToken, apiUrl: config.slack.apiUrl }),
      countTokens: o200kTokenCounter,
      imageInput: config.openai.imageInput,
      timeoutMs: CONTEXT_TIMEOUT_MS,
    },
    retries,
    votes: momentoFeedbackVotes(cache, config.momento.ttlSeconds),
    close() {
      // Not `momento.close()`: the SDK then re-creates a channel in a bad state and schedules its
      // closing 2× the client timeout later (120 s for the control client), holding the process
      // open. Idle gRPC channels hold nothing open, so leaving them is the clean exit.
      if (!overrides.sqs) sqs?.destroy();
    },
  };
}

/**
 * A {@link RetryScheduler} built on first use. Best effort like the one it wraps: if building it
 * fails, the records still come back after the queue's visibility timeout.
 */
function lazyRetryScheduler(build: () => Promise<RetryScheduler>, logger: Logger): RetryScheduler {
  let scheduler: Promise<RetryScheduler> | undefined;
  return {
    async retryLater(items) {
      if (items.length === 0) return;
      scheduler ??= build();
      try {
        await (await scheduler).retryLater(items);
      } catch (error) {
        scheduler = undefined;
        logger.warn('could not shorten visibility of failed records', { error: error as Error });
      }
    },
  };
}
