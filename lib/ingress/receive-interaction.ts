import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { BadInputError, parseInput } from '../errors';
import type { FeedbackJob } from '../queue/job';
import { FEEDBACK_ACTION_ID, isFeedbackValue } from '../slack/feedback-block';

/**
 * Interactivity requests: what Slack sends to the app's `interactivity.request_url` when a user
 * clicks a button, here the feedback buttons under an answer.
 * https://docs.slack.dev/interactivity/handling-user-interaction
 * They come to the same Function URL as events, as `application/x-www-form-urlencoded` with one
 * field, `payload`, holding the JSON; they are signed exactly like events (the v0 HMAC over the
 * raw body: https://docs.slack.dev/authentication/verifying-requests-from-slack), so the caller
 * verifies the signature before anything here runs. Slack wants the 200 within 3 seconds.
 */

/** What one interaction led to: a feedback click's job for the worker, or nothing. */
export type InteractionOutcome = { kind: 'feedback'; job: FeedbackJob } | { kind: 'ignore'; reason: string };

const envelope = z.looseObject({ type: z.string() });

const action = z.looseObject({
  type: z.string(),
  action_id: z.string().optional(),
  block_id: z.string().optional(),
  value: z.unknown().optional(),
  action_ts: z.string().optional(),
});

// https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
const blockActions = z.looseObject({
  type: z.literal('block_actions'),
  team: z.looseObject({ id: z.string().min(1), enterprise_id: z.string().nullish() }),
  user: z.looseObject({ id: z.string().min(1) }),
  channel: z.looseObject({ id: z.string().min(1) }).optional(),
  container: z
    .looseObject({ channel_id: z.string().optional(), message_ts: z.string().optional() })
    .optional(),
  message: z.looseObject({ ts: z.string().optional(), thread_ts: z.string().optional() }).optional(),
  trigger_id: z.string().optional(),
  actions: z.array(action).min(1, 'must hold at least one action'),
});

/** Whether a request is an interactivity request (a form body) rather than an Events API one (JSON). */
export function isInteractionRequest(headers: Record<string, string | undefined>, rawBody: Buffer): boolean {
  const type = headers['content-type']?.toLowerCase() ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) return true;
  return !type.startsWith('application/json') && rawBody.subarray(0, 8).toString('latin1') === 'payload=';
}

/**
 * Reads the `payload` field of a form-encoded interactivity body.
 * @throws {BadInputError} naming `payload` when it is missing or not JSON.
 */
export function parseInteractionBody(rawBody: Buffer): unknown {
  const payload = new URLSearchParams(rawBody.toString('utf8')).get('payload');
  if (payload === null || payload === '') throw new BadInputError('payload', 'is required');
  try {
    return JSON.parse(payload);
  } catch (cause) {
    throw new BadInputError('payload', 'is not valid JSON', { cause });
  }
}

/**
 * Decides what an interaction payload is and logs a feedback click as one INFO line (`feedback`,
 * with team, channel, message ts, user and value: ids only, no text); the caller queues its job.
 * Any other interaction type, or an action that is not ours, is ignored. Shared by the HTTP ingress
 * and the Socket Mode bridge (`interactive` envelopes carry the same payload, unencoded).
 *
 * The job has the worker count the vote (lib/worker/count-vote.ts): the ingress cannot tell a
 * replayed or repeated click from a new one, the worker keeps each user's vote in Momento. The
 * job's id is the click's (Slack's `action_ts`, or `trigger_id`, the same in a replayed request),
 * so SQS drops a replay of the same signed request within its five-minute deduplication window,
 * the signature's own window.
 * @throws {BadInputError} naming the field when a `block_actions` payload is malformed.
 */
export function recordInteraction(payload: unknown, logger: Logger, receivedAt: number): InteractionOutcome {
  const { type } = parseInput(envelope, payload, 'payload');
  if (type !== 'block_actions') return ignore(logger, `interaction type ${type}`);

  const body = parseInput(blockActions, payload, 'payload');
  const index = body.actions.findIndex((a) => a.action_id === FEEDBACK_ACTION_ID);
  const clicked = body.actions[index];
  if (!clicked) return ignore(logger, 'not a feedback action');
  if (clicked.type !== 'feedback_buttons')
    throw new BadInputError(`actions.${index}.type`, 'must be feedback_buttons for this action_id');
  if (!isFeedbackValue(clicked.value))
    throw new BadInputError(`actions.${index}.value`, 'must be one of the feedback values (good, bad)');

  const channel = body.channel?.id ?? body.container?.channel_id;
  if (!channel) throw new BadInputError('channel.id', 'is required for a feedback click');
  const messageTs = body.message?.ts ?? body.container?.message_ts;
  if (!messageTs) throw new BadInputError('message.ts', 'is required for a feedback click');

  const vote = {
    team: body.team.id,
    ...(body.team.enterprise_id ? { enterprise: body.team.enterprise_id } : {}),
    channel,
    messageTs,
    ...(body.message?.thread_ts ? { thread: body.message.thread_ts } : {}),
    user: body.user.id,
    value: clicked.value,
    clickId: clicked.action_ts ?? body.trigger_id ?? '',
  };
  logger.info('feedback', vote);
  const click = vote.clickId || createHash('sha256').update(JSON.stringify(vote)).digest('hex').slice(0, 16);
  const job: FeedbackJob = {
    v: 1,
    kind: 'feedback',
    eventId: `vote:${vote.team}:${channel}:${messageTs}:${vote.user}:${click}`,
    teamId: vote.team,
    ...(vote.enterprise ? { enterpriseId: vote.enterprise } : {}),
    channel,
    messageTs,
    ...(vote.thread ? { threadTs: vote.thread } : {}),
    user: vote.user,
    value: vote.value,
    receivedAt,
  };
  return { kind: 'feedback', job };
}

function ignore(logger: Logger, reason: string): InteractionOutcome {
  logger.info('ignored interaction', { reason });
  return { kind: 'ignore', reason };
}
