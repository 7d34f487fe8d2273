import * as z from 'zod';
import { BadInputError } from '../errors';

/**
 * A file attached to the asking message, as the event listed it
 * (https://docs.slack.dev/reference/objects/file-object). `urlPrivate` needs the bot token.
 */
export const jobFileSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  mimetype: z.string(),
  size: z.number().nonnegative(),
  urlPrivate: z.string().optional(),
});

/** A file attached to the asking message. */
export type JobFile = z.infer<typeof jobFileSchema>;

/**
 * The job the ingress puts on the queue: a small, versioned summary of one Slack event,
 * never the raw Slack body. Bump `v` and keep reading the old version when the shape changes.
 */
export const answerJobSchema = z.object({
  v: z.literal(1),
  /** Slack's `event_id`; also the SQS deduplication id and the worker's claim key. */
  eventId: z.string().min(1),
  teamId: z.string().min(1),
  enterpriseId: z.string().optional(),
  channel: z.string().min(1),
  /** The thread the reply goes to: `event.thread_ts ?? event.ts`. */
  threadTs: z.string().min(1),
  /** The `ts` of the message that asked. */
  ts: z.string().min(1),
  user: z.string().min(1),
  text: z.string(),
  isDm: z.boolean(),
  /** The bot's own user id when Slack told us (`authorizations`), to strip its mention. */
  botUserId: z.string().optional(),
  /** Epoch milliseconds at which the ingress accepted the event. */
  receivedAt: z.number(),
  /** Files attached to the asking message (optional: jobs queued before files were read lack it). */
  files: z.array(jobFileSchema).max(20).optional(),
});

/** One unit of work for the worker. */
export type AnswerJob = z.infer<typeof answerJobSchema>;

/**
 * Serialises a job for an SQS message body, with every non-ASCII character written as a
 * `\uXXXX` JSON escape. The body stays valid JSON (parsing restores the text exactly), is valid
 * on real SQS, and survives peers that reject characters above U+FFFF (see PLATFORM.md, fauxqs).
 */
export function encodeJob(job: AnswerJob): string {
  return JSON.stringify(job).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Parses and validates an SQS message body.
 * @throws {BadInputError} naming the first field that is wrong.
 */
export function decodeJob(body: string): AnswerJob {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new BadInputError('body', 'is not JSON', { cause });
  }
  const result = answerJobSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new BadInputError(issue?.path.join('.') || 'body', issue?.message ?? 'is not a job', {
      cause: result.error,
    });
  }
  return result.data;
}
