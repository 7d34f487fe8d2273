/**
 * The shape of the configuration lib/config.ts hands down, validated: what each function needs,
 * in the project's own terms (the variable behind each field is named in its comment).
 */

import type { McpServerSetting } from './config-variables';
import type { BuiltInTool } from './tools/tool';

/** The environment as Node gives it. */
export type Env = Record<string, string | undefined>;

/** One suggested prompt: the button's `title` and the `message` it sends. */
export interface SuggestedPrompt {
  title: string;
  message: string;
}

/** Where the secrets that are not plain variables are read from (see lib/secrets.ts). */
export interface ParametersConfig {
  /** `SECRETS_PARAMETER_PATH`, always ending in `/`; unset: every secret must be a plain variable. */
  path: string | undefined;
  /** How long a read parameter is trusted before it is read again (a rotated key is picked up). */
  maxAgeSeconds: number;
  /** The environment the secrets are merged into; a plain variable always wins over a parameter. */
  env: Env;
}

/**
 * Distribution mode (lib/config-variables.ts): install into many workspaces through OAuth.
 * Undefined in single-workspace mode.
 */
export interface DistributionConfig {
  /** `SLACK_CLIENT_ID`: its presence turns distribution mode on. */
  clientId: string;
  clientSecret: string;
  /** `SLACK_STATE_SECRET`: signs install states (the ingress only; empty in the worker). */
  stateSecret: string;
  /** `INSTALLATIONS_TABLE`: the DynamoDB table of installations. */
  installationsTable: string;
  /** `TOKEN_ENCRYPTION_KEY`: 32 bytes; tokens are stored AES-256-GCM encrypted with it. */
  tokenEncryptionKey: Buffer;
  /** `SLACK_API_URL`: the Web API (oauth.v2.access) and, beside it, the authorize page. */
  apiUrl: string | undefined;
}

/** What the ingress function needs. */
export interface IngressConfig {
  slackSigningSecret: string;
  queueUrl: string;
  /** The bot's own user id, when known ahead of `authorizations`. */
  botUserId: string | undefined;
  /** Distribution mode: install routes, the installation lookup per event, uninstall events. */
  distribution?: DistributionConfig | undefined;
}

/** What the worker function needs. */
export interface WorkerConfig {
  slack: {
    /** `SLACK_BOT_TOKEN`; undefined in distribution mode, where each installation has its own. */
    botToken: string | undefined;
    apiUrl: string | undefined;
    botUserId: string | undefined;
    updateIntervalMs: number;
    /** Gap between two appends to one native stream. */
    appendIntervalMs: number;
    /** `auto`: native streaming, falling back to edits where Slack refuses it; `native`; `edit`. */
    streaming: 'auto' | 'native' | 'edit';
    /** The Web API client's timeout per call. */
    timeoutMs: number;
    /** Set when a user opens the assistant thread / agent conversation (1 to 4). */
    suggestedPrompts: SuggestedPrompt[];
    /**
     * `SLACK_WRITE_BUDGET`: one budget of Slack writes per workspace and method, shared by every
     * Lambda through Momento (lib/reply/write-budget.ts); false: each reply paces itself.
     */
    sharedWriteBudget: boolean;
  };
  openai: {
    apiKey: string;
    baseUrl: string | undefined;
    model: string;
    temperature: number;
    timeoutMs: number;
    systemPrompt: string;
    historyTokenBudget: number;
    /** `OPENAI_IMAGE_INPUT`: send attached images to the model (`auto`) or only name them (`off`). */
    imageInput: 'auto' | 'off';
  };
  momento: {
    apiKey: string | undefined;
    /** Service endpoint for v2 API keys (`MOMENTO_ENDPOINT`); legacy keys carry their own. */
    endpoint: string | undefined;
    localEndpoint: { hostname: string; port: number } | undefined;
    cache: string;
    ttlSeconds: number;
    /** How long a person's display name is cached (seconds). */
    userNameTtlSeconds: number;
  };
  queue: {
    /** For `ChangeMessageVisibility`; the event carries the ARN, not the URL. */
    url: string | undefined;
    /** The redrive policy's `maxReceiveCount`: on that receive the worker gives up gracefully. */
    maxReceiveCount: number;
    /** Visibility delay before a failed record is tried again (doubled on each receive). */
    retryDelaySeconds: number;
  };
  governance: {
    /** Channel ids the bot answers in (`ALLOWED_CHANNELS`); empty = every channel. `dm` allows DMs. */
    allowedChannels: string[];
    /** User ids the bot answers (`ALLOWED_USERS`); empty = everyone. */
    allowedUsers: string[];
    /** Tokens per UTC day; undefined = unlimited. */
    userDailyTokenLimit: number | undefined;
    teamDailyTokenLimit: number | undefined;
    /** SSM parameter holding per-channel settings (YAML or JSON); unset = none. */
    channelSettingsParameter: string | undefined;
    /** Cache age of that parameter, as for secrets. */
    maxAgeSeconds: number;
  };
  metrics: {
    /** CloudWatch namespace of the EMF metrics. */
    namespace: string;
  };
  /** Distribution mode: each job's token comes from its workspace's installation. */
  distribution?: DistributionConfig | undefined;
  tools: {
    /** `AGENT_TOOLS=off`: no tools at all, MCP included. */
    off: boolean;
    /** `AGENT_TOOLS`: the built-in tools offered (default all). */
    enabled: BuiltInTool[];
    /** `AGENT_MAX_STEPS`: model calls that make one answer. */
    maxSteps: number;
    /** `MCP_SERVERS` (variable or parameter); empty with `AGENT_TOOLS=off`. */
    mcpServers: McpServerSetting[];
    /** `READ_LINK_ALLOW_HOSTS`: `host:port`s exempt from read_link's private-address rule. */
    readLinkAllowHosts: string[];
  };
}
