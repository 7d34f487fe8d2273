import { type IngressConfig, loadIngressConfig, loadWorkerConfig, type WorkerConfig } from '../lib/config';
import { type DynamoDbPeer, startDynamoDbPeer } from './peers/dynamodb-peer';
import { type McpPeer, startMcpPeer } from './peers/mcp-peer';
import { type MomentoPeer, startMomentoPeer } from './peers/momento-peer';
import { type OpenAIPeer, startOpenAIPeer } from './peers/openai-peer';
import { type PagePeer, startPagePeer } from './peers/page-peer';
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
  /**
   * Distribution mode: a local DynamoDB (dynalite) with the installations table, and a Slack peer
   * that installs through OAuth into {@link LOCAL_WORKSPACES} and {@link LOCAL_ENTERPRISE}. The
   * handlers get SLACK_CLIENT_ID & co. instead of SLACK_BOT_TOKEN. `tokenRotation`: expiring tokens.
   */
  distribution?: { tokenRotation?: boolean; tokenLifetimeMs?: number };
}

/** Workspaces the local app can be installed in (distribution mode), each with its own bot user. */
export const LOCAL_WORKSPACES = [
  { teamId: 'T0ACME', name: 'Acme', botUserId: 'UBOT0ACME', botId: 'B0ACME', channel: 'C0ACME' },
  { teamId: 'T0GLOBEX', name: 'Globex', botUserId: 'UBOT0GLOBEX', botId: 'B0GLOBEX', channel: 'C0GLOBEX' },
  // Two workspaces of one Enterprise Grid organization, for an org-wide install.
  {
    teamId: 'T0INITECH1',
    name: 'Initech Sales',
    botUserId: 'UBOT0INI1',
    botId: 'B0INI1',
    channel: 'C0INISALES',
    enterpriseId: 'E0INITECH',
  },
  {
    teamId: 'T0INITECH2',
    name: 'Initech Support',
    botUserId: 'UBOT0INI2',
    botId: 'B0INI2',
    channel: 'C0INISUPPORT',
    enterpriseId: 'E0INITECH',
  },
] as const;
/** The organization of the Initech workspaces: an org-wide install has one bot user for both. */
export const LOCAL_ENTERPRISE = {
  enterpriseId: 'E0INITECH',
  name: 'Initech',
  botUserId: 'WBOT0INITECH',
  botId: 'B0INITECH',
};
/** The local app's OAuth settings (distribution mode). */
export const LOCAL_OAUTH = {
  clientId: '1111.2222',
  clientSecret: 'local-client-secret',
  stateSecret: 'local-state-secret',
  // 32 bytes, base64: fixed so that a run's table could be read again; never a real key.
  tokenEncryptionKey: Buffer.alloc(32, 7).toString('base64'),
  table: 'slack-gpt-bot-local-installations',
};

/** Every local peer the bot talks to, and the configuration that points the handlers at them. */
export interface LocalStack {
  sqs: SqsPeer;
  queue: LocalFifoQueue;
  slack: SlackPeer;
  openai: OpenAIPeer | undefined;
  momento: MomentoPeer | undefined;
  /** Distribution mode's installation store. */
  dynamodb: DynamoDbPeer | undefined;
  /** A local MCP server (`MCP_SERVERS` names it `incidents`) and a web server read_link may read. */
  mcp: McpPeer;
  pages: PagePeer;
  /** The handlers' environment, as a deploy would set it. */
  env: Record<string, string>;
  ingressConfig: IngressConfig;
  workerConfig: WorkerConfig;
  close(): Promise<void>;
}

let stackNo = 0;

/** What the page peer serves at `/runbook` (events/mention-reads-a-link.json asks about it). */
const RUNBOOK_PAGE = `<!doctype html><html><head><title>Orders runbook</title></head><body>
<nav>Home · Runbooks</nav><h1>Orders queue backing up</h1>
<p>First <b>restart the consumers</b>, then redrive the DLQ in batches of 100.</p></body></html>`;

/**
 * Starts the local peers on free loopback ports: SQS (fauxqs) with a FIFO queue and DLQ, the
 * Slack Web API, OpenAI and Momento. The returned configuration is validated by the same
 * `lib/config.ts` the Lambdas use; only the values differ.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { distribution } = options;
  const teamOf = new Map<string, string>(LOCAL_WORKSPACES.map((w) => [w.channel, w.teamId]));
  const [sqs, slack, openai, momento, mcp, pages, dynamodb] = await Promise.all([
    startSqsPeer(),
    startSlackPeer({
      ...(options.slackNow ? { now: options.slackNow } : {}),
      ...(distribution
        ? {
            teamOfChannel: (channel: string) => teamOf.get(channel) ?? 'T0LOCAL',
            oauth: {
              clientId: LOCAL_OAUTH.clientId,
              clientSecret: LOCAL_OAUTH.clientSecret,
              workspaces: LOCAL_WORKSPACES.map(({ channel: _c, ...w }) => w),
              enterprises: [LOCAL_ENTERPRISE],
              ...distribution,
            },
          }
        : {}),
      ...options.slackLimits,
    }),
    options.withoutOpenAI ? undefined : startOpenAIPeer({ tokenDelayMs: options.tokenDelayMs ?? 0 }),
    options.withoutMomento ? undefined : startMomentoPeer({ log: () => undefined }),
    startMcpPeer(),
    startPagePeer(),
    distribution ? startDynamoDbPeer() : undefined,
  ]);
  pages.page('/runbook', { body: RUNBOOK_PAGE });
  await dynamodb?.createInstallationsTable(LOCAL_OAUTH.table);
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
    ...(dynamodb
      ? {
          SLACK_CLIENT_ID: LOCAL_OAUTH.clientId,
          SLACK_CLIENT_SECRET: LOCAL_OAUTH.clientSecret,
          SLACK_STATE_SECRET: LOCAL_OAUTH.stateSecret,
          TOKEN_ENCRYPTION_KEY: LOCAL_OAUTH.tokenEncryptionKey,
          INSTALLATIONS_TABLE: LOCAL_OAUTH.table,
          AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
        }
      : {}),
    MCP_SERVERS: JSON.stringify([{ name: 'incidents', url: mcp.url }]),
    // The page peer is on a loopback address: read_link may reach exactly it.
    READ_LINK_ALLOW_HOSTS: `127.0.0.1:${pages.port}`,
    ...options.env,
  };
  // Distribution mode: every token comes from an installation.
  if (dynamodb) {
    delete env.SLACK_BOT_TOKEN;
    delete env.SLACK_BOT_USER_ID;
  }
  return {
    sqs,
    queue,
    slack,
    openai,
    momento,
    dynamodb,
    mcp,
    pages,
    env,
    ingressConfig: loadIngressConfig(env),
    workerConfig: loadWorkerConfig(env),
    async close() {
      await Promise.all([
        sqs.close(),
        slack.close(),
        openai?.close(),
        momento?.close(),
        mcp.close(),
        pages.close(),
        dynamodb?.close(),
      ]);
    },
  };
}
