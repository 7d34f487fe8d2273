import * as z from 'zod';
import type { ConfigIssue } from './errors';

/**
 * How one environment variable is read and checked: the building blocks of the schemas in
 * lib/config.ts (which alone reads the environment). An empty value counts as unset.
 */

/** The environment as Node gives it. */
export type Env = Record<string, string | undefined>;

/** The variable's value, trimmed; undefined when unset or blank. */
export const trimmed = (env: Env, name: string) => env[name]?.trim() || undefined;

export const nonEmpty = z.string().trim().min(1, 'is required');
export const optionalNonEmpty = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));
export const url = (what: string) =>
  optionalNonEmpty.refine((v) => v === undefined || URL.canParse(v), `must be a URL (${what})`);

export const positiveNumber = (fallback: number) =>
  optionalNonEmpty
    .transform((v) => (v === undefined ? fallback : Number(v)))
    .refine((n) => Number.isFinite(n) && n > 0, 'must be a positive number');

/** One of `words`, in any case; unset means the first. */
export const oneOf = <const W extends readonly [string, ...string[]]>(...words: W) =>
  optionalNonEmpty
    .transform((v) => (v?.toLowerCase() ?? words[0]) as W[number])
    .refine((v) => words.includes(v), `must be ${words.slice(0, -1).join(', ')} or ${words.at(-1)}`);

/** The items of a comma list, trimmed, empty ones left out. */
const commaList = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/**
 * A JSON array that `schema` checks; unset is undefined. A problem in one item names it by
 * `label(position)`, counted from 1.
 */
function jsonArray<S extends z.ZodType>(schema: S, shape: string, label: (n: number) => string) {
  return optionalNonEmpty.transform((v, ctx): z.output<S> | undefined => {
    if (v === undefined) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a JSON array of ${shape}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const at = issue?.path[0];
    const where = typeof at === 'number' ? label(at + 1) : '';
    ctx.addIssue({ code: 'custom', message: `${where}${issue?.message ?? 'is malformed'}` });
    return z.NEVER;
  });
}

/** One suggested prompt: the button's `title` and the `message` it sends. */
const suggestedPromptSchema = z.strictObject({
  title: z.string().trim().min(1, 'needs a title'),
  message: z.string().trim().min(1, 'needs a message'),
});
export type SuggestedPrompt = z.infer<typeof suggestedPromptSchema>;

/**
 * Shown when a user opens the bot's assistant thread or agent conversation; override with
 * `SUGGESTED_PROMPTS`.
 */
export const DEFAULT_SUGGESTED_PROMPTS: SuggestedPrompt[] = [
  {
    title: 'Explain a concept',
    message: 'Explain how an SQS FIFO queue keeps messages in order, in two sentences.',
  },
  { title: 'Draft a message', message: 'Help me draft a short, friendly announcement for my team.' },
  { title: 'Summarise text', message: 'Summarise the following text in three bullet points:' },
];

/**
 * Slack takes at most four prompts
 * (https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts).
 */
const MAX_SUGGESTED_PROMPTS = 4;

/** `SUGGESTED_PROMPTS`: a JSON array of `{title, message}`; unset means the defaults. */
export const suggestedPromptsVariable = jsonArray(
  z
    .array(suggestedPromptSchema)
    .min(1, 'must hold at least one prompt')
    .max(MAX_SUGGESTED_PROMPTS, `must hold at most ${MAX_SUGGESTED_PROMPTS} prompts`),
  '{"title", "message"} objects',
  (n) => `prompt ${n} `,
);

/** Comma-separated Slack ids; empty means "no restriction". */
export const idList = optionalNonEmpty.transform(commaList);

/** A whole number of tokens per UTC day; empty means unlimited. */
export const dailyLimit = optionalNonEmpty
  .transform((v) => (v === undefined ? undefined : Number(v)))
  .refine((n) => n === undefined || (Number.isInteger(n) && n > 0), 'must be a whole number above 0');

/** `AGENT_TOOLS`: a comma list of built-in tools, `off` for none (MCP included); unset = all. */
export const agentToolsVariable = (builtIns: readonly string[]) =>
  optionalNonEmpty.transform((v, ctx): { off: boolean; enabled: string[] } => {
    if (v === undefined) return { off: false, enabled: [...builtIns] };
    if (v.toLowerCase() === 'off') return { off: true, enabled: [] };
    const names = commaList(v);
    const unknown = names.find((n) => !builtIns.includes(n));
    if (unknown !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `names an unknown tool ${JSON.stringify(unknown)} (tools: ${builtIns.join(', ')}, or off)`,
      });
      return z.NEVER;
    }
    return { off: false, enabled: names };
  });

/** One MCP server as `MCP_SERVERS` lists it. */
const mcpServerSchema = z.strictObject({
  /** Prefix of its tools' names (`<name>__<tool>`). */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,30}$/, 'name must be 1-30 letters, digits, _ or -'),
  url: z
    .string()
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'url must be an http(s) URL'),
  /** Request headers; a value `ssm:<parameter name>` is read from that SecureString. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Only these of its tools; absent = all. */
  tools: z.array(z.string().min(1)).optional(),
});
export type McpServerSetting = z.infer<typeof mcpServerSchema>;

/** `MCP_SERVERS`: a JSON array of `{name, url, headers?, tools?}`; unset = no MCP servers. */
export const mcpServersVariable = jsonArray(
  z
    .array(mcpServerSchema)
    .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'server names must be unique'),
  '{"name", "url", "headers"?, "tools"?}',
  (n) => `server ${n}: `,
);

/**
 * `READ_LINK_ALLOW_HOSTS`: comma-separated `host:port`s exempt from read_link's private-address
 * rule, lowercased; empty = none.
 */
export const hostPortList = optionalNonEmpty
  .transform((v) => commaList(v?.toLowerCase()))
  .refine(
    (list) => list.every((h) => /^[^\s:/]+:\d{1,5}$/.test(h) || /^\[[0-9a-f:.]+\]:\d{1,5}$/.test(h)),
    'must be a comma list of host:port',
  );

/*
 * Distribution mode: one deployment installed into many workspaces through Slack's OAuth v2 flow
 * (https://docs.slack.dev/authentication/installing-with-oauth), each installation's bot token
 * kept encrypted in DynamoDB. On when `SLACK_CLIENT_ID` is set; the other variables are then
 * required, and a single-workspace `SLACK_BOT_TOKEN` beside them is refused (one source of tokens).
 */

/** What each function needs in distribution mode: the ingress signs install states, the worker does not. */
const DISTRIBUTION_NEEDS = {
  ingress: ['SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'INSTALLATIONS_TABLE', 'TOKEN_ENCRYPTION_KEY'],
  // The worker refreshes rotating tokens (client secret) and reads installations.
  worker: ['SLACK_CLIENT_SECRET', 'INSTALLATIONS_TABLE', 'TOKEN_ENCRYPTION_KEY'],
};

/** Every OAuth-only variable: any of them without `SLACK_CLIENT_ID` is a half-done setup. */
const OAUTH_ONLY = ['SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET'];

/** What is missing or malformed for distribution mode, named by variable; empty when fine. */
export function distributionIssues(env: Env, role: 'ingress' | 'worker'): ConfigIssue[] {
  if (!trimmed(env, 'SLACK_CLIENT_ID')) {
    return OAUTH_ONLY.filter((name) => trimmed(env, name)).map((name) => ({
      variable: 'SLACK_CLIENT_ID',
      problem: `is required with ${name} (distribution mode)`,
    }));
  }
  const issues: ConfigIssue[] = DISTRIBUTION_NEEDS[role]
    .filter((name) => !trimmed(env, name))
    .map((variable) => ({ variable, problem: 'is required in distribution mode (SLACK_CLIENT_ID is set)' }));
  // An AES-256 key: 32 random bytes, base64.
  const key = trimmed(env, 'TOKEN_ENCRYPTION_KEY');
  if (key && (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length !== 32)) {
    issues.push({
      variable: 'TOKEN_ENCRYPTION_KEY',
      problem: 'must be 32 random bytes, base64 (openssl rand -base64 32)',
    });
  }
  if (role === 'worker' && trimmed(env, 'SLACK_BOT_TOKEN')) {
    issues.push({
      variable: 'SLACK_BOT_TOKEN',
      problem:
        'must not be set in distribution mode (SLACK_CLIENT_ID is set): tokens come from installations',
    });
  }
  return issues;
}

/** Distribution mode's settings, as {@link distributionConfig} reads them. */
export type DistributionConfig = NonNullable<ReturnType<typeof distributionConfig>>;

/** The distribution settings, or undefined in single-workspace mode. Call after the issues are clear. */
export function distributionConfig(env: Env) {
  const clientId = trimmed(env, 'SLACK_CLIENT_ID');
  if (!clientId) return undefined;
  return {
    clientId,
    clientSecret: trimmed(env, 'SLACK_CLIENT_SECRET')!,
    /** Signs install states: the ingress only (empty in the worker). */
    stateSecret: trimmed(env, 'SLACK_STATE_SECRET') ?? '',
    installationsTable: trimmed(env, 'INSTALLATIONS_TABLE')!,
    /** Tokens are stored AES-256-GCM encrypted with these 32 bytes. */
    tokenEncryptionKey: Buffer.from(trimmed(env, 'TOKEN_ENCRYPTION_KEY')!, 'base64'),
    apiUrl: trimmed(env, 'SLACK_API_URL'),
  };
}
