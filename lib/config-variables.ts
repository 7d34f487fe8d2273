import * as z from 'zod';
import type { SuggestedPrompt } from './config-types';

/**
 * How one environment variable is read and checked: the building blocks of the schemas in
 * lib/config.ts (which alone reads the environment). An empty value counts as unset.
 */

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
export const MAX_SUGGESTED_PROMPTS = 4;

const suggestedPrompts = z
  .array(
    z.strictObject({
      title: z.string().trim().min(1, 'needs a title'),
      message: z.string().trim().min(1, 'needs a message'),
    }),
  )
  .min(1, 'must hold at least one prompt')
  .max(MAX_SUGGESTED_PROMPTS, `must hold at most ${MAX_SUGGESTED_PROMPTS} prompts`);

/** `SUGGESTED_PROMPTS`: a JSON array of `{title, message}`; unset or empty means the defaults. */
export const suggestedPromptsVariable = optionalNonEmpty.transform((v, ctx): SuggestedPrompt[] => {
  if (v === undefined) return DEFAULT_SUGGESTED_PROMPTS;
  let raw: unknown;
  try {
    raw = JSON.parse(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of {"title", "message"} objects' });
    return z.NEVER;
  }
  const parsed = suggestedPrompts.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue?.path[0];
  const where = typeof at === 'number' ? `prompt ${at + 1} ` : '';
  ctx.addIssue({ code: 'custom', message: `${where}${issue?.message ?? 'is malformed'}` });
  return z.NEVER;
});

/** Comma-separated Slack ids; empty means "no restriction". */
export const idList = optionalNonEmpty.transform((v) =>
  (v ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== ''),
);

/** A whole number of tokens per UTC day; empty means unlimited. */
export const dailyLimit = optionalNonEmpty
  .transform((v) => (v === undefined ? undefined : Number(v)))
  .refine((n) => n === undefined || (Number.isInteger(n) && n > 0), 'must be a whole number above 0');

/** `AGENT_TOOLS`: a comma list of built-in tools, `off` for none (MCP included); unset = all. */
export const agentToolsVariable = (builtIns: readonly string[]) =>
  optionalNonEmpty.transform((v, ctx): { off: boolean; enabled: string[] } => {
    if (v === undefined) return { off: false, enabled: [...builtIns] };
    if (v.toLowerCase() === 'off') return { off: true, enabled: [] };
    const names = v
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
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
export interface McpServerSetting {
  /** Prefix of its tools' names (`<name>__<tool>`). */
  name: string;
  url: string;
  /** Request headers; a value `ssm:<parameter name>` is read from that SecureString. */
  headers?: Record<string, string>;
  /** Only these of its tools; absent = all. */
  tools?: string[];
}

const mcpServers = z
  .array(
    z.strictObject({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,30}$/, 'name must be 1-30 letters, digits, _ or -'),
      url: z
        .string()
        .refine(
          (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
          'url must be an http(s) URL',
        ),
      headers: z.record(z.string(), z.string()).optional(),
      tools: z.array(z.string().min(1)).optional(),
    }),
  )
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'server names must be unique');

/** `MCP_SERVERS`: a JSON array of `{name, url, headers?, tools?}`; unset = no MCP servers. */
export const mcpServersVariable = optionalNonEmpty.transform((v, ctx): McpServerSetting[] => {
  if (v === undefined) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(v);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a JSON array of {"name", "url", "headers"?, "tools"?}',
    });
    return z.NEVER;
  }
  const parsed = mcpServers.safeParse(raw);
  if (parsed.success) return parsed.data as McpServerSetting[];
  const issue = parsed.error.issues[0];
  const at = issue?.path[0];
  ctx.addIssue({
    code: 'custom',
    message: `${typeof at === 'number' ? `server ${at + 1}: ` : ''}${issue?.message ?? 'is malformed'}`,
  });
  return z.NEVER;
});

/** `READ_LINK_ALLOW_HOSTS`: comma-separated `host:port`, lowercased; empty = none. */
export const hostPortList = optionalNonEmpty
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ''),
  )
  .refine(
    (list) => list.every((h) => /^[^\s:/]+:\d{1,5}$/.test(h) || /^\[[0-9a-f:.]+\]:\d{1,5}$/.test(h)),
    'must be a comma list of host:port',
  );
