import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { load as loadYaml } from 'js-yaml';
import * as z from 'zod';
import { BadInputError, parseInput } from '../errors';
import type { Logger } from '../logger';

const settingsSchema = z
  .object({
    systemPrompt: z.string().trim().min(1, 'must not be empty').optional(),
    model: z.string().trim().min(1, 'must not be empty').optional(),
    temperature: z.number().min(0, 'must be from 0 to 2').max(2, 'must be from 0 to 2').optional(),
    /**
     * Narrows the tools in this channel: built-in tool names, MCP server names (all their tools) or
     * `<server>__<tool>`; `[]` = no tools here. Unset: every tool the deployment enables.
     */
    tools: z.array(z.string().trim().min(1, 'must not be empty')).optional(),
  })
  .strict();

/** What an admin may set per channel; anything unset keeps the deployment's default. */
export type ChannelSettings = z.infer<typeof settingsSchema>;

/** Per-channel settings, read where an admin can change them without a deploy. */
export interface ChannelSettingsSource {
  /** The channel's settings, or `undefined` for the defaults. Never throws. */
  forChannel(channel: string): Promise<ChannelSettings | undefined>;
}

const documentSchema = z
  .object({
    channels: z.record(
      z.string().regex(/^[CDG][A-Z0-9]+$/, 'keys must be Slack channel ids (C…, G…, D…)'),
      settingsSchema,
    ),
  })
  .strict();

/**
 * Parses the settings document, YAML or JSON (JSON is YAML):
 * `{ channels: { C123: { systemPrompt, model?, temperature?, tools? } } }`.
 * @throws {BadInputError} whose `field` is the path of the first problem, e.g. `channels.C123.temperature`.
 */
export function parseChannelSettings(text: string): Record<string, ChannelSettings> {
  let document: unknown;
  try {
    document = loadYaml(text);
  } catch (cause) {
    // Only the reason and the place: js-yaml's message quotes the document, which may hold prompts.
    const { reason, mark } = cause as { reason?: string; mark?: { line?: number; column?: number } };
    const where =
      mark?.line === undefined ? '' : ` at line ${mark.line + 1}, column ${(mark.column ?? 0) + 1}`;
    throw new BadInputError('document', `is neither YAML nor JSON: ${reason ?? 'unreadable'}${where}`, {
      cause,
    });
  }
  return parseInput(documentSchema, document, 'document').channels;
}

/**
 * After Parameter Store fails to answer (down, throttled, slow past the client's limits), the
 * settings in hand are used this long without asking it again, so answers do not each wait on it
 * (as the Momento-backed write budget backs off, lib/reply/write-budget.ts).
 */
const UNREADABLE_BACKOFF_MS = 30_000;

/**
 * Per-channel settings from one SSM parameter (String or SecureString), cached by Powertools for
 * `maxAgeSeconds` like the secrets, so an edit reaches every instance within that time.
 * A broken document is logged at ERROR with the problem (never its text) and the defaults are
 * kept: a settings mistake must not stop the bot from answering. An unreadable parameter is logged
 * at WARN, the last settings read are kept (the defaults if none was) and the store is not asked
 * again for {@link UNREADABLE_BACKOFF_MS}. No such parameter (the admin has set none) means no
 * per-channel settings, and is remembered for the same age so it costs no call per answer.
 */
export function parameterChannelSettings(options: {
  provider: () => SSMProvider;
  parameterName: string;
  maxAgeSeconds: number;
  logger: Logger;
}): ChannelSettingsSource {
  const { provider, parameterName, maxAgeSeconds, logger } = options;
  let parsed: { text: string; channels: Record<string, ChannelSettings> } | undefined;
  let absentUntil = 0;
  let unreadableUntil = 0;
  return {
    async forChannel(channel) {
      if (Date.now() < absentUntil) return undefined;
      if (Date.now() < unreadableUntil) return parsed?.channels[channel];
      let text: string | undefined;
      try {
        text = await provider().get(parameterName, { maxAge: maxAgeSeconds, decrypt: true });
      } catch (error) {
        if (isParameterNotFound(error)) {
          absentUntil = Date.now() + maxAgeSeconds * 1000;
          logger.debug('no channel settings parameter; using the defaults', { parameter: parameterName });
          return undefined;
        }
        unreadableUntil = Date.now() + UNREADABLE_BACKOFF_MS;
        logger.warn(
          parsed
            ? 'channel settings unreadable; keeping the last ones read'
            : 'channel settings unreadable; using the defaults',
          { parameter: parameterName, retryInMs: UNREADABLE_BACKOFF_MS, error: error as Error },
        );
        return parsed?.channels[channel];
      }
      if (text === undefined) return undefined;
      if (parsed?.text !== text) {
        try {
          parsed = { text, channels: parseChannelSettings(text) };
        } catch (error) {
          if (!(error instanceof BadInputError)) throw error;
          // Logged on every use while broken, so the problem stays visible; the text never is.
          logger.error('channel settings are invalid; using the defaults', {
            parameter: parameterName,
            field: error.field,
            problem: error.message,
          });
          return undefined;
        }
      }
      return parsed.channels[channel];
    },
  };
}

/** Powertools wraps the SDK's `ParameterNotFound` in a `GetParameterError` with it as `cause`. */
function isParameterNotFound(error: unknown): boolean {
  for (let e = error as { name?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.name === 'ParameterNotFound') return true;
  }
  return false;
}
