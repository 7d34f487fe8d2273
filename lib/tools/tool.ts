import type { Logger } from '../logger';

/** The built-in tools; their names are fixed (admins and prompts refer to them). */
export const BUILT_IN_TOOLS = ['search_slack', 'read_link'] as const;
export type BuiltInTool = (typeof BUILT_IN_TOOLS)[number];

/** What one call of a tool may use while it runs. */
export interface ToolCallContext {
  /** Aborted when the user pressed Stop or the call's time is up: end every request at once. */
  signal: AbortSignal;
  /** Epoch milliseconds by which the call must have returned. */
  deadline: number;
  logger: Logger;
}

/** What a call gave: text for the model, and a line for the step shown in Slack. */
export interface ToolOutcome {
  /** `false` when the call could not do what was asked (refused, unavailable, failed). */
  ok: boolean;
  /** For the model: the data, or why there is none. Untrusted: the loop fences it. */
  content: string;
  /** For the step: one short line, no more than the title shows of user data. */
  output: string;
  /** URLs found or read, as the step's sources. */
  sources?: Array<{ url: string; text: string }>;
}

/**
 * One tool the model may call. Built per answer (from the job's own Slack client and context), so
 * `run` sees only what the asking user's question may use.
 */
export interface Tool {
  /** `[a-zA-Z0-9_-]{1,64}`, as OpenAI's function names must be. */
  readonly name: string;
  /** For the model: what it does and when to use it. */
  readonly description: string;
  /** JSON Schema of the arguments. */
  readonly parameters: Record<string, unknown>;
  /** The step's title for these arguments, e.g. `Searching Slack for “deploy freeze”`. */
  title(args: Record<string, unknown>): string;
  /** The remembered one-line trace, e.g. `searched Slack: deploy freeze`. */
  trace(args: Record<string, unknown>): string;
  /** Runs the call. Throws only on a bug: every expected failure is an outcome with `ok: false`. */
  run(args: Record<string, unknown>, context: ToolCallContext): Promise<ToolOutcome>;
}

/** An outcome with `ok: false`: `content` tells the model why, `output` the step. */
export function failed(content: string, output: string): ToolOutcome {
  return { ok: false, content, output };
}

/** A string argument, trimmed; `undefined` when absent or not a string. */
export function stringArg(args: Record<string, unknown>, key: string): string | undefined {
  const value = args[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
