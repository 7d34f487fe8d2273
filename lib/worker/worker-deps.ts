import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import OpenAI from 'openai';
import type { WorkerConfig } from '../config';
import { slackFileDownloader } from '../context/file-downloader';
import { slackThreadReader } from '../context/thread-reader';
import { slackUserNames } from '../context/user-names';
import { parameterChannelSettings } from '../governance/channel-settings';
import { estimateAnswerTokens } from '../governance/daily-quota';
import { createGovernance } from '../governance/governance';
import { slackEphemeral } from '../governance/slack-ephemeral';
import { installationTokens } from '../install/installation-tokens';
import { openInstallationStore } from '../install/open-installation-store';
import { slackTokenRefresher } from '../install/token-refresher';
import { measuredChatModel } from '../llm/measured-chat';
import { MODEL_CALL_BUDGET } from '../llm/model-call-budget';
import { openAiChat } from '../llm/openai-chat';
import { o200kTokenCounter } from '../llm/prompt';
import type { Logger } from '../logger';
import { createMetrics } from '../metrics';
import { sqsRetryScheduler } from '../queue/sqs-retry-scheduler';
import { replyOpener } from '../reply/open-reply';
import { slackWrites } from '../reply/slack-reply-api';
import { slidingMinuteBudget, type WriteBudgetOptions } from '../reply/write-budget';
import { lazyParameterProvider } from '../secrets';
import { slackAssistantThreads } from '../slack/assistant-threads';
import { slackWebClient } from '../slack/web-client';
import { momentoEventClaims } from '../store/event-claims';
import { FeedbackVotes } from '../store/feedback-votes';
import { momentoGovernanceStore } from '../store/governance-store';
import { MomentoCache } from '../store/momento-cache';
import { createMomentoClient } from '../store/momento-client';
import { momentoRefusals } from '../store/refusals';
import { momentoSharedLog } from '../store/shared-log';
import { momentoThreadHistory } from '../store/thread-history';
import { KeptUserNames } from '../store/user-names';
import { mcpToolSource } from '../tools/mcp-tools';
import { systemResolver } from '../tools/safe-fetch';
import { PLACEHOLDER, STREAMING_REFUSED_NOTE, THINKING_STATUS } from './notices';
import { observeRateLimits, observeReplyPaths } from './observers';
import type { SharedWorkerDeps } from './worker-handler';
import { installedWorkspaces, type WorkspaceSlack } from './workspace-slack';

/**
 * Builds the worker's clients and adapters from configuration, with explicit limits: the queue
 * does the long-term retrying, so each client retries briefly and times out well inside the
 * function's timeout. The sandbox and tests use it too, so every path runs the same clients.
 * One workspace (`SLACK_BOT_TOKEN`); {@link workerDepsFor} serves either mode.
 */
export function buildWorkerDeps(
  config: WorkerConfig,
  logger: Logger,
  overrides: WorkerOverrides = {},
): SharedWorkerDeps & Omit<WorkspaceSlack, 'botUserId'> & { close(): void } {
  if (!config.slack.botToken)
    throw new Error('buildWorkerDeps needs SLACK_BOT_TOKEN; distribution mode: workerDepsFor');
  const shared = sharedWorkerDeps(config, logger, overrides);
  return { ...shared.deps, ...shared.portsFor(config.slack.botToken) };
}

/**
 * {@link buildWorkerDeps} for either mode: in distribution mode (`SLACK_CLIENT_ID`) each job's
 * Slack ports are built on its installation's token (lib/install/), one set per token.
 */
export function workerDepsFor(config: WorkerConfig, logger: Logger, overrides: WorkerOverrides = {}) {
  const { distribution } = config;
  if (!distribution) return buildWorkerDeps(config, logger, overrides);
  const shared = sharedWorkerDeps(config, logger, overrides);
  const installations = openInstallationStore(distribution, overrides.dynamodb);
  const tokens = installationTokens({
    store: installations.store,
    refresher: slackTokenRefresher(slackWebClient(undefined, config.slack), distribution),
  });
  return {
    ...shared.deps,
    workspaces: installedWorkspaces(tokens, shared.portsFor),
    close() {
      shared.deps.close();
      installations.close();
    },
  };
}

/** What the sandbox and tests may hand in instead of the defaults. */
export interface WorkerOverrides {
  sqs?: SQSClient;
  parameters?: () => SSMProvider;
  metrics?: Metrics;
  now?: () => Date;
  /** The installation store's client (distribution mode). */
  dynamodb?: DynamoDBClient;
  /** The shared write budget's limits and minute (a benchmark compresses Slack's minute). */
  writeBudget?: Pick<WriteBudgetOptions, 'limits' | 'minuteMs'>;
}

/** Everything but the Slack ports, and how to build those ports on one token. */
function sharedWorkerDeps(config: WorkerConfig, logger: Logger, overrides: WorkerOverrides) {
  const openai = new OpenAI({
    apiKey: config.openai.apiKey,
    ...(config.openai.baseUrl ? { baseURL: config.openai.baseUrl } : {}),
    timeout: config.openai.timeoutMs,
    // One quick retry before the stream starts; streamModel (lib/llm/stream-model.ts) retries further
    // within the invocation's deadline.
    // Part of the per-event cap on model requests (lib/llm/model-call-budget.ts).
    maxRetries: MODEL_CALL_BUDGET.sdkMaxRetries,
  });
  const momento = createMomentoClient(config.momento);
  const cache = new MomentoCache(momento, config.momento.cache);
  const metrics = overrides.metrics ?? createMetrics(config.metrics.namespace, 'slack-worker');
  const { governance: g } = config;
  const parameters = overrides.parameters ?? lazyParameterProvider();
  // Shared by every workspace: it reads one parameter, whatever the token.
  const channelSettings = g.channelSettingsParameter
    ? parameterChannelSettings({
        provider: parameters,
        parameterName: g.channelSettingsParameter,
        maxAgeSeconds: g.maxAgeSeconds,
        logger,
      })
    : undefined;
  // One per instance, shared by every workspace's replies: each keys its log by workspace.
  const budget = config.slack.sharedWriteBudget
    ? slidingMinuteBudget(momentoSharedLog(cache), { ...overrides.writeBudget, logger })
    : undefined;

  /** The Slack-facing ports of one token: every Slack call of a job goes through this one client. */
  const portsFor = (token: string): Omit<WorkspaceSlack, 'botUserId'> => {
    const slack = slackWebClient(token, config.slack);
    // Every Slack write of the replies, counted when Slack answers 429 (a metric per method).
    const writes = observeRateLimits(slackWrites(slack), metrics);
    const governance = createGovernance({
      policy: { channels: g.allowedChannels, users: g.allowedUsers },
      limits: { user: g.userDailyTokenLimit, team: g.teamDailyTokenLimit },
      store: momentoGovernanceStore(cache),
      channelSettings,
      postEphemeral: slackEphemeral(slack),
      estimate: (job) => estimateAnswerTokens(job, config.openai),
      replyInThread: (channel, threadTs, text, eventId) =>
        writes.post({ channel, threadTs, text, tag: { eventId, chunk: 0 } }),
      metrics,
      ...(overrides.now ? { now: overrides.now } : {}),
    });
    return {
      client: slack,
      replies: observeReplyPaths(
        replyOpener({
          slack: writes,
          mode: config.slack.streaming,
          availability: momentoRefusals(cache, 'streaming-off'),
          editIntervalMs: config.slack.updateIntervalMs,
          appendIntervalMs: config.slack.appendIntervalMs,
          texts: { placeholder: PLACEHOLDER, status: THINKING_STATUS, refusedNote: STREAMING_REFUSED_NOTE },
          ...(budget ? { budget } : {}),
        }),
        metrics,
      ),
      assistant: slackAssistantThreads(slack),
      governance,
      context: {
        threads: slackThreadReader(slack),
        names: slackUserNames(slack, new KeptUserNames(cache, config.momento.userNameTtlSeconds)),
        files: slackFileDownloader({ botToken: token, apiUrl: config.slack.apiUrl }),
        countTokens: o200kTokenCounter,
        imageInput: config.openai.imageInput,
      },
    };
  };

  const retries = sqsRetryScheduler(config.queue.url, logger, overrides.sqs);
  const deps: SharedWorkerDeps & { close(): void } = {
    config,
    logger,
    metrics,
    llm: measuredChatModel(
      openAiChat(openai, { model: config.openai.model, temperature: config.openai.temperature }),
      { metrics, countTokens: o200kTokenCounter, logger },
    ),
    history: momentoThreadHistory(cache, config.momento.ttlSeconds),
    claims: momentoEventClaims(cache),
    tools: {
      settings: config.tools,
      resolve: systemResolver,
      mcp:
        config.tools.mcpServers.length > 0
          ? mcpToolSource(config.tools.mcpServers, { parameters, maxAgeSeconds: g.maxAgeSeconds })
          : undefined,
      availability: momentoRefusals(cache, 'tools-off'),
      countTokens: o200kTokenCounter,
      // A tool result (cut with a marker beyond) may fill half of `HISTORY_TOKEN_BUDGET`; memory and
      // thread keep the rest.
      resultTokens: Math.floor(config.openai.historyTokenBudget / 2),
      model: config.openai.model,
    },
    retries,
    votes: new FeedbackVotes(cache, config.momento.ttlSeconds),
    close() {
      // Not `momento.close()`: the SDK then re-creates a channel in a bad state and schedules its
      // closing 2× the client timeout later (120 s for the control client), holding the process
      // open. Idle gRPC channels hold nothing open, so leaving them is the clean exit.
      retries.close();
    },
  };
  return { deps, portsFor };
}
