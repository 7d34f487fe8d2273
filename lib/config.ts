import * as z from 'zod';
import {
  agentToolsVariable,
  DEFAULT_SUGGESTED_PROMPTS,
  type DistributionConfig,
  dailyLimit,
  distributionConfig,
  distributionIssues,
  type Env,
  hostPortList,
  idList,
  mcpServersVariable,
  nonEmpty,
  oneOf,
  optionalNonEmpty,
  positiveNumber,
  suggestedPromptsVariable,
  trimmed,
  url,
} from './config-variables';
import { ConfigError, type ConfigIssue } from './errors';
import {
  DEFAULT_AGENT_MAX_STEPS,
  MAX_MODEL_CALLS_PER_EVENT,
  MAX_RECEIVES_WITHIN_BUDGET,
  modelCallsPerEvent,
} from './llm/model-call-budget';
import { BUILT_IN_TOOLS, type BuiltInTool } from './tools/tool';

export type { DistributionConfig, SuggestedPrompt } from './config-variables';

/**
 * Configuration, validated once at cold start. This is the only module that reads the
 * environment; everything else receives a typed object. Variable names are a public contract
 * (deploys and outside tests set them): see `.env.example` and the README.
 */

/** Where secrets come from when they are not plain variables (lib/secrets.ts). */
const parametersSchema = z.object({
  SECRETS_PARAMETER_PATH: optionalNonEmpty
    .refine((v) => v === undefined || v.startsWith('/'), 'must be a parameter path starting with /')
    .transform((v) => (v === undefined || v.endsWith('/') ? v : `${v}/`)),
  PARAMETERS_MAX_AGE_SECONDS: positiveNumber(300),
});

const slackApiUrl = url('ending in /api/').refine(
  (v) => v === undefined || v.endsWith('/api/'),
  'must end in /api/',
);

const ingressSchema = z.object({
  SLACK_SIGNING_SECRET: nonEmpty,
  // Distribution mode only: oauth.v2.access and the authorize page beside it.
  SLACK_API_URL: slackApiUrl,
  QUEUE_URL: nonEmpty.refine((v) => URL.canParse(v), 'must be the queue URL'),
  // The bot's own user id, when known ahead of the event's `authorizations`.
  SLACK_BOT_USER_ID: optionalNonEmpty,
});

/**
 * Tuning that follows from Slack's limits and the worker's time, not something to change per
 * deployment (so no variable): the least time between two streaming edits of a reply (`chat.update`
 * is Tier 3, about 50 a minute per workspace: https://docs.slack.dev/reference/methods/chat.update)…
 */
const EDIT_INTERVAL_MS = 1_000;
/** …between two appends to one stream (`chat.appendStream` is Tier 4, about 100 a minute)… */
const APPEND_INTERVAL_MS = 600;
/** …the Web API client's timeout per call (well inside the worker's two minutes)… */
const SLACK_CALL_TIMEOUT_MS = 10_000;
/** …how long a person's display name is cached (names change rarely)… */
const USER_NAME_TTL_SECONDS = 6 * 3600;
/** …and a failed record's first retry delay, doubled on each receive (a passing fault passes). */
const RETRY_DELAY_SECONDS = 10;

const workerSchema = z.object({
  // Required in single-workspace mode (workerAlternatives); distribution mode has none.
  SLACK_BOT_TOKEN: optionalNonEmpty,
  SLACK_API_URL: slackApiUrl,
  SLACK_BOT_USER_ID: optionalNonEmpty,
  // One budget per workspace and method shared by every worker through Momento, counted against
  // Slack's published tiers (lib/reply/slack-tiers.ts); `off` leaves each reply to pace itself.
  SLACK_WRITE_BUDGET: oneOf('shared', 'off'),
  // `auto`: native streaming, falling back to edits where Slack refuses it; `native`; `edit`.
  SLACK_STREAMING: oneOf('auto', 'native', 'edit'),
  SUGGESTED_PROMPTS: suggestedPromptsVariable,
  OPENAI_API_KEY: optionalNonEmpty,
  OPENAI_BASE_URL: url('of an OpenAI-compatible API'),
  OPENAI_API_MODEL: optionalNonEmpty.transform((v) => v ?? 'gpt-4o-mini'),
  OPENAI_API_TEMPERATURE: optionalNonEmpty
    .transform((v) => (v === undefined ? 1 : Number(v)))
    .refine((n) => Number.isFinite(n) && n >= 0 && n <= 2, 'must be a number from 0 to 2'),
  OPENAI_TIMEOUT_MS: positiveNumber(60_000),
  SYSTEM_PROMPT: optionalNonEmpty,
  HISTORY_TOKEN_BUDGET: positiveNumber(3000),
  // `auto` sends attached images to the model, `off` only names them (for models without vision):
  // https://platform.openai.com/docs/guides/images-vision
  OPENAI_IMAGE_INPUT: oneOf('auto', 'off'),
  MOMENTO_API_KEY: optionalNonEmpty,
  // The service endpoint for v2 API keys; legacy keys carry their own.
  MOMENTO_ENDPOINT: optionalNonEmpty,
  MOMENTO_LOCAL_ENDPOINT: optionalNonEmpty
    .refine((v) => v === undefined || /^[^:\s]+:\d{1,5}$/.test(v), 'must be host:port')
    .transform((v) => {
      if (v === undefined) return undefined;
      const [hostname = '', port] = v.split(':');
      return { hostname, port: Number(port) };
    }),
  MOMENTO_CACHE: optionalNonEmpty.transform((v) => v ?? 'slack-bot'),
  MOMENTO_TTL: positiveNumber(24),
  // For `ChangeMessageVisibility`: the event carries the queue's ARN, not its URL.
  QUEUE_URL: optionalNonEmpty,
  // The redrive policy's `maxReceiveCount`: on that receive the worker gives up gracefully.
  // Each receive may make up to 10 model requests by default (lib/llm/model-call-budget.ts): more
  // receives than MAX_RECEIVES_WITHIN_BUDGET would break the per-event cap.
  QUEUE_MAX_RECEIVE_COUNT: positiveNumber(5)
    .refine(Number.isInteger, 'must be a whole number')
    .refine(
      (n) => n <= MAX_RECEIVES_WITHIN_BUDGET,
      `must be at most ${MAX_RECEIVES_WITHIN_BUDGET} (MAX_MODEL_CALLS_PER_EVENT is ` +
        `${MAX_MODEL_CALLS_PER_EVENT})`,
    ),
  // Channel ids the bot answers in; `dm` allows DMs.
  ALLOWED_CHANNELS: idList,
  ALLOWED_USERS: idList,
  USER_DAILY_TOKEN_LIMIT: dailyLimit,
  TEAM_DAILY_TOKEN_LIMIT: dailyLimit,
  // SSM parameter holding per-channel settings (YAML or JSON), cached as long as the secrets.
  CHANNEL_SETTINGS_PARAMETER: optionalNonEmpty,
  PARAMETERS_MAX_AGE_SECONDS: positiveNumber(300),
  METRICS_NAMESPACE: optionalNonEmpty.transform((v) => v ?? 'SlackGptBot'),
  // Tools the model may call (lib/tools); the names are fixed.
  AGENT_TOOLS: agentToolsVariable(BUILT_IN_TOOLS),
  // Model calls that make one answer.
  AGENT_MAX_STEPS: positiveNumber(DEFAULT_AGENT_MAX_STEPS).refine(
    (n) => Number.isInteger(n) && n <= 10,
    'must be a whole number from 1 to 10',
  ),
  MCP_SERVERS: mcpServersVariable,
  READ_LINK_ALLOW_HOSTS: hostPortList,
});

/** Either-or requirements; checked on the raw environment so they are reported with the rest. */
function workerAlternatives(env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const set = (name: string) => trimmed(env, name) !== undefined;
  if (!set('SLACK_BOT_TOKEN') && !set('SLACK_CLIENT_ID')) {
    issues.push({
      variable: 'SLACK_BOT_TOKEN',
      problem: 'is required (or set SLACK_CLIENT_ID to distribute)',
    });
  }
  issues.push(...distributionIssues(env, 'worker'));
  if (!set('OPENAI_API_KEY') && !set('OPENAI_BASE_URL')) {
    issues.push({ variable: 'OPENAI_API_KEY', problem: 'is required (or set OPENAI_BASE_URL)' });
  }
  if (!set('MOMENTO_API_KEY') && !set('MOMENTO_LOCAL_ENDPOINT')) {
    issues.push({ variable: 'MOMENTO_API_KEY', problem: 'is required (or set MOMENTO_LOCAL_ENDPOINT)' });
  }
  // Rounds of tool calls multiply the model requests of each receive (lib/llm/model-call-budget.ts).
  const steps = Number(trimmed(env, 'AGENT_MAX_STEPS') ?? DEFAULT_AGENT_MAX_STEPS);
  const receives = Number(trimmed(env, 'QUEUE_MAX_RECEIVE_COUNT') ?? 5);
  const calls = modelCallsPerEvent(receives, steps);
  if (Number.isInteger(steps) && Number.isInteger(receives) && calls > MAX_MODEL_CALLS_PER_EVENT) {
    issues.push({
      variable: 'AGENT_MAX_STEPS',
      problem:
        `with QUEUE_MAX_RECEIVE_COUNT ${receives} makes ${calls} model requests per event, ` +
        `above MAX_MODEL_CALLS_PER_EVENT (${MAX_MODEL_CALLS_PER_EVENT}): lower one of them`,
    });
  }
  return issues;
}

/** Default system prompt; override with `SYSTEM_PROMPT`. */
export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful assistant in a Slack workspace. Answer concisely. Use Markdown for formatting.';

function parse<T extends z.ZodType>(schema: T, env: Env, extra: ConfigIssue[] = []): z.output<T> {
  const result = schema.safeParse(env);
  const issues: ConfigIssue[] = (result.error?.issues ?? []).map((issue) => ({
    variable: String(issue.path[0] ?? 'environment'),
    problem: issue.code === 'invalid_type' ? 'is required' : issue.message,
  }));
  issues.push(...extra);
  if (result.success && issues.length === 0) return result.data;
  throw new ConfigError(issues);
}

/** Where the secrets that are not plain variables are read from (see lib/secrets.ts). */
export type ParametersConfig = ReturnType<typeof loadParametersConfig>;

/**
 * Reads where secrets come from, and snapshots the environment they are merged into.
 * @throws {ConfigError} naming a malformed variable.
 */
export function loadParametersConfig(env: Env = process.env) {
  const e = parse(parametersSchema, env);
  return {
    /** Unset: every secret must be a plain variable. */
    path: e.SECRETS_PARAMETER_PATH,
    /** How long a read parameter is trusted before it is read again (a rotated key is picked up). */
    maxAgeSeconds: e.PARAMETERS_MAX_AGE_SECONDS,
    /** The environment the secrets are merged into; a plain variable always wins over a parameter. */
    env: { ...env },
  };
}

/**
 * The named variables that are set (trimmed), for `npm run secrets`, which copies them from
 * `.env` to Parameter Store. Never logged.
 */
export function loadSecretVariables(
  names: readonly string[],
  env: Env = process.env,
): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = trimmed(env, name);
      return value ? [[name, value]] : [];
    }),
  );
}

/**
 * What the ingress function needs. Written out, not inferred from {@link loadIngressConfig}: tests
 * build it without `distribution`.
 */
export interface IngressConfig {
  slackSigningSecret: string;
  queueUrl: string;
  botUserId: string | undefined;
  /** Distribution mode: install routes, the installation lookup per event, uninstall events. */
  distribution?: DistributionConfig | undefined;
}

/**
 * Validates the ingress function's environment.
 * @throws {ConfigError} naming every missing or malformed variable.
 */
export function loadIngressConfig(env: Env = process.env): IngressConfig {
  const e = parse(ingressSchema, env, distributionIssues(env, 'ingress'));
  return {
    slackSigningSecret: e.SLACK_SIGNING_SECRET,
    queueUrl: e.QUEUE_URL,
    botUserId: e.SLACK_BOT_USER_ID,
    distribution: distributionConfig(env),
  };
}

/** What the worker function needs. */
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

/**
 * Validates the worker function's environment.
 * @throws {ConfigError} naming every missing or malformed variable.
 */
export function loadWorkerConfig(env: Env = process.env) {
  const e = parse(workerSchema, env, workerAlternatives(env));
  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      apiUrl: e.SLACK_API_URL,
      botUserId: e.SLACK_BOT_USER_ID,
      updateIntervalMs: EDIT_INTERVAL_MS,
      appendIntervalMs: APPEND_INTERVAL_MS,
      streaming: e.SLACK_STREAMING,
      timeoutMs: SLACK_CALL_TIMEOUT_MS,
      suggestedPrompts: e.SUGGESTED_PROMPTS ?? DEFAULT_SUGGESTED_PROMPTS,
      sharedWriteBudget: e.SLACK_WRITE_BUDGET === 'shared',
    },
    openai: {
      // A local OpenAI-compatible server (Ollama, vLLM) accepts any key.
      apiKey: e.OPENAI_API_KEY ?? 'local',
      baseUrl: e.OPENAI_BASE_URL,
      model: e.OPENAI_API_MODEL,
      temperature: e.OPENAI_API_TEMPERATURE,
      timeoutMs: e.OPENAI_TIMEOUT_MS,
      systemPrompt: e.SYSTEM_PROMPT ?? DEFAULT_SYSTEM_PROMPT,
      historyTokenBudget: e.HISTORY_TOKEN_BUDGET,
      imageInput: e.OPENAI_IMAGE_INPUT,
    },
    momento: {
      apiKey: e.MOMENTO_API_KEY,
      endpoint: e.MOMENTO_ENDPOINT,
      localEndpoint: e.MOMENTO_LOCAL_ENDPOINT,
      cache: e.MOMENTO_CACHE,
      ttlSeconds: Math.round(e.MOMENTO_TTL * 3600),
      userNameTtlSeconds: USER_NAME_TTL_SECONDS,
    },
    queue: {
      url: e.QUEUE_URL,
      maxReceiveCount: e.QUEUE_MAX_RECEIVE_COUNT,
      retryDelaySeconds: RETRY_DELAY_SECONDS,
    },
    governance: {
      allowedChannels: e.ALLOWED_CHANNELS,
      allowedUsers: e.ALLOWED_USERS,
      userDailyTokenLimit: e.USER_DAILY_TOKEN_LIMIT,
      teamDailyTokenLimit: e.TEAM_DAILY_TOKEN_LIMIT,
      channelSettingsParameter: e.CHANNEL_SETTINGS_PARAMETER,
      maxAgeSeconds: e.PARAMETERS_MAX_AGE_SECONDS,
    },
    metrics: { namespace: e.METRICS_NAMESPACE },
    /** Distribution mode: each job's token comes from its workspace's installation. */
    distribution: distributionConfig(env),
    tools: {
      off: e.AGENT_TOOLS.off,
      enabled: e.AGENT_TOOLS.enabled as BuiltInTool[],
      maxSteps: e.AGENT_MAX_STEPS,
      mcpServers: e.AGENT_TOOLS.off ? [] : (e.MCP_SERVERS ?? []),
      readLinkAllowHosts: e.READ_LINK_ALLOW_HOSTS,
    },
  };
}
