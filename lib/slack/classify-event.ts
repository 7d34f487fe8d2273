import * as z from 'zod';
import { BadInputError, parseInput } from '../errors';
import type { AnswerJob, PromptsJob } from '../queue/job';

/**
 * Sorts a parsed Slack Events API body into what the ingress does with it.
 * https://api.slack.com/apis/events-api#receiving-events
 * Answered: `app_mention`, and `message` in a DM (`channel_type: im`) with no subtype, or one
 * that is still a person writing (`file_share`, `thread_broadcast`).
 * Ignored: anything from a bot (`bot_id`, `subtype: bot_message`), any other subtype
 * (`message_changed`, `message_deleted`, …), and the bot's own messages.
 * Suggested prompts: `assistant_thread_started` (assistant view) and `app_home_opened` with
 * `tab: "messages"` (agent view, which replaces `assistant_thread_started`:
 * https://docs.slack.dev/ai/migrating-to-agent-messaging/) become a `prompts` job;
 * `assistant_thread_context_changed` is acknowledged and ignored.
 */
export type SlackEventDecision =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'ignore'; reason: string; eventId?: string }
  | { kind: 'answer'; job: AnswerJob }
  | { kind: 'prompts'; job: PromptsJob }
  | { kind: 'installation'; change: InstallationChange };

/**
 * The app was uninstalled from a workspace or organization (`app_uninstalled`), or some of its
 * tokens were revoked (`tokens_revoked`, listing the user ids whose `bot` and `oauth` tokens went):
 * https://docs.slack.dev/reference/events/app_uninstalled,
 * https://docs.slack.dev/reference/events/tokens_revoked
 */
export interface InstallationChange {
  eventId: string;
  teamId: string;
  enterpriseId?: string | undefined;
  isEnterpriseInstall?: boolean | undefined;
  type: 'app_uninstalled' | 'tokens_revoked';
  /** `tokens_revoked`: the users whose bot tokens were revoked. */
  bot: string[];
  /** `tokens_revoked`: the users whose user (OAuth) tokens were revoked. */
  oauth: string[];
}

/**
 * Subtypes that are still a person writing to the bot: a message with a file attached, and a
 * thread reply also sent to the channel. https://api.slack.com/events/message#subtypes
 */
const USER_SUBTYPES = new Set(['file_share', 'thread_broadcast']);

const urlVerification = z.object({ type: z.literal('url_verification'), challenge: z.string() });

const innerEvent = z.looseObject({
  type: z.string(),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  channel: z.string().optional(),
  channel_type: z.string().optional(),
  ts: z.string().optional(),
  thread_ts: z.string().optional(),
  /** The author's own team (shared channels); `team` is the workspace the message was posted in. */
  user_team: z.string().optional(),
  team: z.string().optional(),
  /** `app_home_opened`: `home` or `messages`. https://docs.slack.dev/reference/events/app_home_opened */
  tab: z.string().optional(),
  /** Lets the app search as the asking user (Real-time Search API); on `app_mention` and DM messages. */
  action_token: z.string().optional(),
  assistant_thread: z.unknown().optional(),
  /** `tokens_revoked`: `{ oauth?: [user ids], bot?: [user ids] }`. */
  tokens: z.unknown().optional(),
  files: z
    .array(
      z.looseObject({
        id: z.string().optional(),
        name: z.string().nullish(),
        title: z.string().nullish(),
        mimetype: z.string().nullish(),
        size: z.number().nullish(),
        url_private: z.string().nullish(),
      }),
    )
    .optional(),
});

// https://docs.slack.dev/reference/events/assistant_thread_started
const assistantThread = z.looseObject({
  user_id: z.string().min(1),
  channel_id: z.string().min(1),
  thread_ts: z.string().min(1),
});

const eventCallback = z.looseObject({
  type: z.literal('event_callback'),
  event_id: z.string().min(1),
  team_id: z.string().min(1),
  enterprise_id: z.string().nullish(),
  event: innerEvent,
  authorizations: z
    .array(
      z.looseObject({
        user_id: z.string().optional(),
        is_bot: z.boolean().optional(),
        is_enterprise_install: z.boolean().optional(),
      }),
    )
    .optional(),
});

const revokedTokens = z.looseObject({
  bot: z.array(z.string()).optional(),
  oauth: z.array(z.string()).optional(),
});

const envelope = z.looseObject({ type: z.string() });

/**
 * Decides what to do with a Slack Events API body.
 * @param body the parsed JSON body.
 * @param context `botUserId` from configuration, when set; `now` for `receivedAt`.
 * @throws {BadInputError} naming the field when the body is not a Slack event of a known shape.
 */
export function classifySlackEvent(
  body: unknown,
  context: { botUserId?: string | undefined; now?: number } = {},
): SlackEventDecision {
  const { type } = parseInput(envelope, body, 'body');
  if (type === 'url_verification') {
    return { kind: 'challenge', challenge: parseInput(urlVerification, body, 'body').challenge };
  }
  // e.g. `app_rate_limited`: nothing to answer, and nothing malformed either.
  if (type !== 'event_callback') return { kind: 'ignore', reason: `envelope type ${type}` };

  const { event, event_id: eventId, team_id: teamId, ...callback } = parseInput(eventCallback, body, 'body');
  const botUserId = context.botUserId ?? callback.authorizations?.find((a) => a.is_bot && a.user_id)?.user_id;

  const ignore = (reason: string): SlackEventDecision => ({ kind: 'ignore', reason, eventId });
  const receivedAt = context.now ?? Date.now();
  // An org-wide installation's events say so: its token is the enterprise's, not the workspace's.
  const orgWide = callback.authorizations?.[0]?.is_enterprise_install;
  const where = {
    teamId,
    ...(callback.enterprise_id ? { enterpriseId: callback.enterprise_id } : {}),
    // Only when true: jobs of workspace installs stay as they were.
    ...(orgWide ? { isEnterpriseInstall: true } : {}),
  };
  const promptsJob = (at: { channel: string; threadTs?: string; user: string }): SlackEventDecision => ({
    kind: 'prompts',
    job: { v: 1, kind: 'prompts', eventId, ...where, ...at, receivedAt },
  });

  if (event.type === 'app_uninstalled' || event.type === 'tokens_revoked') {
    const tokens = parseInput(revokedTokens, event.tokens ?? {}, 'body', 'event.tokens');
    return {
      kind: 'installation',
      change: {
        eventId,
        ...where,
        type: event.type,
        bot: tokens.bot ?? [],
        oauth: tokens.oauth ?? [],
      },
    };
  }

  if (event.type === 'assistant_thread_started') {
    const thread = parseInput(assistantThread, event.assistant_thread, 'body', 'event.assistant_thread');
    const { channel_id: channel, thread_ts: threadTs, user_id: user } = thread;
    return promptsJob({ channel, threadTs, user });
  }
  if (event.type === 'assistant_thread_context_changed') return ignore('assistant thread context changed');
  if (event.type === 'app_home_opened') {
    if (event.tab !== 'messages') return ignore(`app_home_opened tab ${event.tab ?? 'none'}`);
    const missing = (['user', 'channel'] as const).find((k) => !event[k]);
    if (missing) throw new BadInputError(`event.${missing}`, 'is required to set suggested prompts');
    return promptsJob({ channel: event.channel!, user: event.user! });
  }
  if (event.bot_id || event.subtype === 'bot_message') return ignore('from a bot');
  if (event.subtype && !USER_SUBTYPES.has(event.subtype)) return ignore(`subtype ${event.subtype}`);
  if (botUserId && event.user === botUserId) return ignore('own message');

  const isMention = event.type === 'app_mention';
  const isDm = event.type === 'message' && event.channel_type === 'im';
  if (!isMention && !isDm) return ignore(`event type ${event.type}`);

  // Required only once we know we will answer: ignored events may legitimately lack them.
  const missing = (['user', 'channel', 'ts'] as const).find((k) => !event[k]);
  if (missing) throw new BadInputError(`event.${missing}`, 'is required for a message to answer');

  return {
    kind: 'answer',
    job: {
      v: 1,
      eventId,
      ...where,
      // https://docs.slack.dev/reference/events/message: `user_team` is the author's team in a
      // shared channel; `team` the workspace the message came from; else the app's own team.
      userTeamId: event.user_team ?? event.team ?? teamId,
      channel: event.channel!,
      threadTs: event.thread_ts ?? event.ts!,
      ts: event.ts!,
      user: event.user!,
      text: event.text ?? '',
      isDm,
      ...(botUserId ? { botUserId } : {}),
      receivedAt,
      ...(event.files?.length ? { files: jobFiles(event.files) } : {}),
      ...(actionToken(event) ? { actionToken: actionToken(event) } : {}),
    },
  };
}

/**
 * The event's `action_token`: on the event itself, or inside `assistant_thread` in an assistant
 * thread (https://docs.slack.dev/apis/web-api/real-time-search-api).
 */
function actionToken(event: z.infer<typeof innerEvent>): string | undefined {
  const nested = (event.assistant_thread as { action_token?: unknown } | undefined)?.action_token;
  const token = event.action_token ?? (typeof nested === 'string' ? nested : undefined);
  return token?.trim() ? token.trim() : undefined;
}

/**
 * The files of an `app_mention` or a DM `file_share` message, as the job carries them: no more
 * than the job allows, each with what the worker needs to download and name it. A file Slack
 * lists without details (`file_access: check_file_info`) keeps no URL and is named as not read.
 * https://docs.slack.dev/reference/objects/file-object
 */
function jobFiles(files: NonNullable<z.infer<typeof innerEvent>['files']>): NonNullable<AnswerJob['files']> {
  return files
    .filter((f) => f.id)
    .slice(0, 20)
    .map((f) => ({
      id: f.id!,
      name: f.name ?? f.title ?? f.id!,
      mimetype: f.mimetype ?? '',
      size: f.size ?? 0,
      ...(f.url_private ? { urlPrivate: f.url_private } : {}),
    }));
}
