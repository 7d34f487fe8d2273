/**
 * The shape of the configuration lib/config.ts hands down, validated: what each function needs,
 * in the project's own terms (the variable behind each field is named in its comment).
 */

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

/** What the ingress function needs. */
export interface IngressConfig {
  slackSigningSecret: string;
  queueUrl: string;
  /** The bot's own user id, when known ahead of `authorizations`. */
  botUserId: string | undefined;
}

/** What the worker function needs. */
export interface WorkerConfig {
  slack: {
    botToken: string;
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
    /** The write budget shared per workspace (`SLACK_WRITE_BUDGET`, `SLACK_BUDGET_*`); undefined when off. */
    writeBudget:
      | {
          windowMs: number;
          intermediateShare: number;
          /** The span Slack counts "per minute" over: 60 s (tests compress it). */
          minuteMs?: number;
          /** Calls per minute by method, and whether they count per workspace or per channel. */
          budgets: Record<string, { perMinute: number; scope: 'team' | 'channel'; windowMs?: number }>;
        }
      | undefined;
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
    /** `USER_NAME_TTL` (hours): how long a person's display name is cached. */
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
}
