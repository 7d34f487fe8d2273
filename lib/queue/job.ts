import * as z from 'zod';
import { BadInputError, parseInput } from '../errors';

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
  /** Absent on answer jobs (and on every job queued before other kinds existed). */
  kind: z.literal('answer').optional(),
  /** Slack's `event_id`; also the SQS deduplication id and the worker's claim key. */
  eventId: z.string().min(1),
  teamId: z.string().min(1),
  /**
   * The asking user's own team: in a shared (Slack Connect) channel it is not the app's team.
   * `chat.startStream` needs it as `recipient_team_id` outside DMs
   * (https://docs.slack.dev/reference/methods/chat.startStream). Absent in jobs queued before it.
   */
  userTeamId: z.string().optional(),
  enterpriseId: z.string().optional(),
  /**
   * The event came through an org-wide installation (`authorizations[0].is_enterprise_install`):
   * its token is the enterprise's (https://api.slack.com/enterprise/apps/reference).
   */
  isEnterpriseInstall: z.boolean().optional(),
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
  /**
   * The `action_token` Slack sent with the asking user's event: `search_slack` searches as that
   * user with it (https://docs.slack.dev/reference/methods/assistant.search.context), and never
   * without it. Short-lived; never logged. Absent in jobs queued before tools, and on events without one.
   */
  actionToken: z.string().min(1).optional(),
});

/** One question to answer. */
export type AnswerJob = z.infer<typeof answerJobSchema>;

/**
 * A user opened the bot's assistant thread (`assistant_thread_started`) or, on the agent view,
 * its Messages tab (`app_home_opened` with `tab: "messages"`): set the suggested prompts there.
 * https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
 */
export const promptsJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal('prompts'),
  eventId: z.string().min(1),
  teamId: z.string().min(1),
  enterpriseId: z.string().optional(),
  isEnterpriseInstall: z.boolean().optional(),
  /** The DM channel of the assistant thread or agent conversation. */
  channel: z.string().min(1),
  /** The assistant thread; absent on the agent view, where prompts are set without `thread_ts`. */
  threadTs: z.string().min(1).optional(),
  user: z.string().min(1),
  receivedAt: z.number(),
});

/** Set the suggested prompts; no message is posted. */
export type PromptsJob = z.infer<typeof promptsJobSchema>;

/**
 * A click on an answer's feedback buttons, to count once per user and message (the last click
 * wins): the ingress has no memory of earlier clicks, the worker keeps them in Momento.
 */
export const feedbackJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal('feedback'),
  /** Unique per click (Slack's `action_ts`): the SQS deduplication id drops a replayed request. */
  eventId: z.string().min(1),
  teamId: z.string().min(1),
  enterpriseId: z.string().optional(),
  channel: z.string().min(1),
  /** The `ts` of the answer that carries the buttons. */
  messageTs: z.string().min(1),
  threadTs: z.string().min(1).optional(),
  user: z.string().min(1),
  value: z.enum(['good', 'bad']),
  receivedAt: z.number(),
});

/** Count a feedback vote; nothing is posted. */
export type FeedbackJob = z.infer<typeof feedbackJobSchema>;

/** One unit of work for the worker: `kind` tells which (an answer job may have none). */
export type Job = AnswerJob | PromptsJob | FeedbackJob;

/**
 * Serialises a job for an SQS message body, with every non-ASCII character written as a
 * `\uXXXX` JSON escape. The body stays valid JSON (parsing restores the text exactly), is valid
 * on real SQS, and survives peers that reject characters above U+FFFF (see PLATFORM.md, fauxqs).
 */
export function encodeJob(job: Job): string {
  return JSON.stringify(job).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Parses and validates an SQS message body: a `prompts` or `feedback` job by its `kind`, anything
 * else as an answer job, exactly as before kinds existed.
 * @throws {BadInputError} naming the first field that is wrong.
 */
export function decodeJob(body: string): Job {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new BadInputError('body', 'is not JSON', { cause });
  }
  const kind = (raw as { kind?: unknown } | null)?.kind;
  const schema =
    kind === 'prompts' ? promptsJobSchema : kind === 'feedback' ? feedbackJobSchema : answerJobSchema;
  return parseInput(schema, raw, 'body');
}

/**
 * {@link decodeJob} for a body that must hold an answer job (tests, tools).
 * @throws {BadInputError} naming `kind` for any other kind of job.
 */
export function decodeAnswerJob(body: string): AnswerJob {
  const job = decodeJob(body);
  if (job.kind === 'prompts' || job.kind === 'feedback')
    throw new BadInputError('kind', `is ${job.kind}, not an answer job`);
  return job;
}
