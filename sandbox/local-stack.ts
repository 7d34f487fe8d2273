import { type IngressConfig, loadIngressConfig, loadWorkerConfig, type WorkerConfig } from '../lib/config';
import { type MomentoPeer, startMomentoPeer } from './peers/momento-peer';
import { type OpenAIPeer, startOpenAIPeer } from './peers/openai-peer';
import { type SlackPeer, type SlackPeerOptions, startSlackPeer } from './peers/slack-peer';
import { type LocalFifoQueue, type SqsPeer, startSqsPeer } from './peers/sqs-peer';

/** Signing secret of the local stack; replay and tests sign with it. */
export const LOCAL_SIGNING_SECRET = 'local-signing-secret';

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Delay between streamed tokens of the local OpenAI peer. */
  tokenDelayMs?: number;
  /** Queue settings, as serverless.yml sets them in AWS. */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  /** Extra or overriding environment for the handlers (e.g. a real OPENAI_API_KEY). */
  env?: Record<string, string>;
  /** Skip the OpenAI peer (a real or other OpenAI-compatible API is configured in `env`). */
  withoutOpenAI?: boolean;
  /** Skip the Momento peer (real Momento is configured in `env`). */
  withoutMomento?: boolean;
  /** The Slack peer's clock (message ts, stream expiry); default `Date.now`. */
  slackNow?: () => number;
  /** The Slack peer's rate limits and workspaces (off by default; see {@link SlackPeerOptions}). */
  slackLimits?: Pick<SlackPeerOptions, 'rateLimits' | 'rateLimitMinuteMs' | 'teamOfChannel'>;
}

/** Every local peer the bot talks to, and the configuration that points the handlers at them. */
export interface LocalStack {
  sqs: SqsPeer;
  queue: LocalFifoQueue;
  slack: SlackPeer;
  openai: OpenAIPeer | undefined;
  momento: MomentoPeer | undefined;
  /** The handlers' environment, as a deploy would set it. */
  env: Record<string, string>;
  ingressConfig: IngressConfig;
  workerConfig: WorkerConfig;
  close(): Promise<void>;
}

let stackNo = 0;

/**
 * Starts the local peers on free loopback ports: SQS (fauxqs) with a FIFO queue and DLQ, the
 * Slack Web API, OpenAI and Momento. The returned configuration is validated by the same
 * `lib/config.ts` the Lambdas use; only the values differ.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const [sqs, slack, openai, momento] = await Promise.all([
    startSqsPeer(),
    startSlackPeer({ ...(options.slackNow ? { now: options.slackNow } : {}), ...options.slackLimits }),
    options.withoutOpenAI ? undefined : startOpenAIPeer({ tokenDelayMs: options.tokenDelayMs ?? 0 }),
    options.withoutMomento ? undefined : startMomentoPeer({ log: () => undefined }),
  ]);
  const queue = sqs.createFifoQueue(`slack-bot-local-${++stackNo}`, {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    maxReceiveCount: options.maxReceiveCount ?? 4,
  });
  const env: Record<string, string> = {
    SLACK_SIGNING_SECRET: LOCAL_SIGNING_SECRET,
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.url,
    SLACK_BOT_USER_ID: slack.botUserId,
    QUEUE_URL: queue.queueUrl,
    QUEUE_MAX_RECEIVE_COUNT: String(queue.maxReceiveCount),
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    MOMENTO_CACHE: 'slack-bot',
    MOMENTO_TTL: '24',
    OPENAI_API_MODEL: 'gpt-4o-mini',
    ...(openai ? { OPENAI_BASE_URL: openai.url, OPENAI_API_KEY: 'sk-local' } : {}),
    ...(momento ? { MOMENTO_LOCAL_ENDPOINT: momento.endpoint } : {}),
    ...options.env,
  };
  return {
    sqs,
    queue,
    slack,
    openai,
    momento,
    env,
    ingressConfig: loadIngressConfig(env),
    workerConfig: loadWorkerConfig(env),
    async close() {
      await Promise.all([sqs.close(), slack.close(), openai?.close(), momento?.close()]);
    },
  };
}
