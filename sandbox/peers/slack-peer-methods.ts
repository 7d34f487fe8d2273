import { checkChunks } from './slack-peer-chunks';
import { searchMessages } from './slack-peer-search';

/**
 * The Web API methods the Slack peer answers, each a function of the workspace state and the
 * parsed arguments. Shapes and error codes follow docs.slack.dev/reference/methods/<method>.
 */

/** A message as the Slack peer stores it. */
export interface SlackMessage {
  channel: string;
  ts: string;
  /** The parent's ts for a reply; absent on a parent or an unthreaded message. */
  thread_ts?: string;
  /** The text, or for a stream everything appended so far. */
  text: string;
  blocks?: unknown[];
  /** The author: the bot's user id for everything the bot posted. */
  user: string;
  /** Set on the bot's own messages. */
  bot_id?: string;
  /** How many times `chat.update` changed it. */
  edits: number;
  /** Last `chat.update`, as Slack shows it. */
  edited?: { user: string; ts: string };
  /** Set on messages made by `chat.startStream`; `stopped_by_user` once the user pressed Stop. */
  streaming?: 'in_progress' | 'stopped' | 'stopped_by_user';
  /** Message metadata (`event_type`, `event_payload`), https://docs.slack.dev/messaging/message-metadata */
  metadata?: unknown;
  deleted: boolean;
  reactions?: Array<{ name: string; users: string[]; count: number }>;
  /** Files attached to it, as Slack's file objects (see `seedFile`). */
  files?: Array<Record<string, unknown>>;
  /** A stream's task cards (`task_update` chunks), each in its latest state, in the order first seen. */
  tasks?: StreamTask[];
  /** How a stream shows its task cards (`task_display_mode` of chat.startStream). */
  taskDisplay?: 'timeline' | 'plan';
}

/** One task card of a streamed message, as the user sees it now. */
export interface StreamTask {
  id: string;
  title: string;
  status: string;
  output?: string;
  sources?: Array<{ url: string; text: string }>;
}

/** Keeps the task cards a streaming call carried on its message: a card's latest update wins. */
function recordTasks(message: SlackMessage, args: SlackArgs): void {
  const chunks = Array.isArray(args.chunks) ? (args.chunks as Array<Record<string, unknown>>) : [];
  for (const c of chunks.filter((x) => x.type === 'task_update')) {
    const task: StreamTask = {
      id: String(c.id),
      title: String(c.title),
      status: String(c.status),
      ...(typeof c.output === 'string' ? { output: c.output } : {}),
      ...(Array.isArray(c.sources) ? { sources: c.sources as StreamTask['sources'] } : {}),
    };
    message.tasks ??= [];
    const at = message.tasks.findIndex((t) => t.id === task.id);
    if (at >= 0) message.tasks[at] = task;
    else message.tasks.push(task);
  }
}

/** A workspace member as `users.info` returns them (https://docs.slack.dev/reference/objects/user-object). */
export interface SlackUser {
  id: string;
  /** The handle (`name`). */
  name: string;
  realName?: string;
  displayName?: string;
}

/** What `assistant.threads.setSuggestedPrompts` was given for a thread. */
export interface SuggestedPrompts {
  title?: string;
  prompts: Array<{ title: string; message: string }>;
}

/** Arguments of one call, after form fields holding JSON (`blocks`, `chunks`, …) were parsed. */
export type SlackArgs = Record<string, unknown>;

/** Slack's response envelope. */
export type SlackResponse = { ok: boolean; error?: string } & Record<string, unknown>;

/** What the method handlers need from the peer's state. */
export interface SlackWorkspace {
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly features: { streaming: boolean };
  /** A message that was not deleted. */
  find(channel: string, ts: string): SlackMessage | undefined;
  /** Posts as the bot; a post into a thread clears that thread's status. */
  post(input: {
    channel: string;
    thread_ts?: string;
    text: string;
    blocks?: unknown[];
    streaming?: boolean;
    metadata?: unknown;
  }): SlackMessage;
  edit(
    message: SlackMessage,
    change: { text?: string; blocks?: unknown[]; metadata?: unknown },
  ): SlackMessage;
  remove(message: SlackMessage): void;
  /** Whether a stream still takes writes (false once stopped or stale). */
  isStreaming(message: SlackMessage): boolean;
  append(message: SlackMessage, text: string): void;
  stop(message: SlackMessage, blocks?: unknown[], metadata?: unknown): SlackMessage;
  setStatus(channel: string, threadTs: string, status: string): void;
  /** Records the prompts of a thread, or of the DM when `threadTs` is undefined (agent view). */
  setSuggestedPrompts(channel: string, threadTs: string | undefined, prompts: SuggestedPrompts): void;
  setTitle(channel: string, threadTs: string, title: string): void;
  /** Parent (if any) and replies, in ts order, without deleted ones. */
  thread(channel: string, threadTs: string): SlackMessage[];
  /** Adds the bot's reaction; false if it was already there. */
  react(message: SlackMessage, name: string): boolean;
  /** The message object as the Web API returns it. */
  toApiMessage(message: SlackMessage): Record<string, unknown>;
  /** A one-time Socket Mode WebSocket URL (`apps.connections.open`). */
  socketModeUrl(): string;
  /** A seeded workspace member. */
  user(id: string): SlackUser | undefined;
  /** A fresh message ts (for messages that are not stored, such as ephemeral ones). */
  nextTs(): string;
  /** Every live message of every channel, in channel then ts order. */
  allMessages(): SlackMessage[];
  /** The user an `action_token` was issued to (see `SlackPeer.issueActionToken`). */
  actionTokenUser(token: string): string | undefined;
  /** Whether `user` is a member of a private channel, DM or group DM. */
  isMember(channel: string, user: string): boolean;
  /** Whether a `G…` channel is a group DM rather than a private channel. */
  isGroupDm(channel: string): boolean;
}

type Handler = (ws: SlackWorkspace, args: SlackArgs) => SlackResponse;

/** `text` past this is refused (real Slack truncates; refusing makes an over-long post visible). */
export const TEXT_LIMIT = 40_000;
/** `markdown_text` limit of the streaming methods and `chat.postMessage`. */
export const MARKDOWN_TEXT_LIMIT = 12_000;

/** The methods switched off by `disable('streaming')`. */
export const STREAMING_METHODS = new Set(['chat.startStream', 'chat.appendStream', 'chat.stopStream']);

export const fail = (error: string, messages?: string[]): SlackResponse =>
  messages ? { ok: false, error, response_metadata: { messages } } : { ok: false, error };

export const invalidArguments = (field: string): SlackResponse =>
  fail('invalid_arguments', [`[ERROR] missing required field: ${field}`]);

export const invalid = (error: string, problem: string, pointer: string): SlackResponse => ({
  ...fail(error, [`[ERROR] ${problem} [json-pointer:${pointer}]`]),
  errors: [`${problem} [json-pointer:${pointer}]`],
});

type TextObject = { text?: unknown } | undefined;
export const textLength = (object: unknown): number => {
  const text = (object as TextObject)?.text;
  return typeof text === 'string' ? text.length : 0;
};

// https://docs.slack.dev/reference/block-kit/blocks/section-block (text ≤ 3000, fields ≤ 10 × 2000)
function checkBlocks(blocks: unknown): SlackResponse | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return invalid('invalid_blocks', 'must provide an array', '/blocks');
  if (blocks.length > 50) return invalid('invalid_blocks', 'no more than 50 items allowed', '/blocks');
  for (const [i, block] of blocks.entries()) {
    const b = block as { type?: unknown; text?: unknown; fields?: unknown };
    if (typeof b?.type !== 'string')
      return invalid('invalid_blocks', 'missing required field: type', `/blocks/${i}`);
    if (b.type === 'section' && textLength(b.text) > 3000) {
      return invalid('invalid_blocks', 'must be less than 3001 characters', `/blocks/${i}/text/text`);
    }
    const fields = Array.isArray(b.fields) ? b.fields : [];
    const long = fields.findIndex((f) => textLength(f) > 2000);
    if (b.type === 'section' && long >= 0) {
      return invalid(
        'invalid_blocks',
        'must be less than 2001 characters',
        `/blocks/${i}/fields/${long}/text`,
      );
    }
    if (b.type === 'header' && textLength(b.text) > 150) {
      return invalid('invalid_blocks', 'must be less than 151 characters', `/blocks/${i}/text/text`);
    }
  }
  return undefined;
}

export const str = (args: SlackArgs, key: string): string | undefined => {
  const value = args[key];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

const isChannelId = (id: string | undefined): id is string => id !== undefined && /^[CDG][A-Z0-9]+$/.test(id);

function checkLengths(args: SlackArgs): SlackResponse | undefined {
  if (typeof args.text === 'string' && args.text.length > TEXT_LIMIT) return fail('msg_too_long');
  if (typeof args.markdown_text === 'string' && args.markdown_text.length > MARKDOWN_TEXT_LIMIT) {
    return fail('msg_too_long');
  }
  return checkBlocks(args.blocks) ?? checkChunks(args.chunks);
}

/** `markdown_text` followed by the text of any `markdown_text` chunks. */
function streamedText(args: SlackArgs): string {
  const chunks = Array.isArray(args.chunks) ? (args.chunks as Array<{ type: string; text?: unknown }>) : [];
  const fromChunks = chunks.map((c) => (c.type === 'markdown_text' ? String(c.text ?? '') : '')).join('');
  return (str(args, 'markdown_text') ?? '') + fromChunks;
}

/** Finds a live message the bot may write to, or the error Slack would answer. */
function ownMessage(ws: SlackWorkspace, args: SlackArgs, notOwn: string): SlackMessage | SlackResponse {
  const channel = str(args, 'channel');
  const ts = str(args, 'ts');
  if (!isChannelId(channel)) return fail('channel_not_found');
  if (ts === undefined) return invalidArguments('ts');
  const message = ws.find(channel, ts);
  if (message === undefined) return fail('message_not_found');
  if (message.user !== ws.botUserId) return fail(notOwn);
  return message;
}

/** A stream the bot may still write to, or `stopped_by_user` / `message_not_in_streaming_state`. */
function liveStream(ws: SlackWorkspace, args: SlackArgs): SlackMessage | SlackResponse {
  const found = ownMessage(ws, args, 'message_not_in_streaming_state');
  if ('ok' in found) return found;
  if (found.streaming === 'stopped_by_user') return fail('stopped_by_user');
  if (!ws.isStreaming(found)) return fail('message_not_in_streaming_state');
  return found;
}

const authTest: Handler = (ws) => ({
  ok: true,
  url: 'https://local-workspace.slack.com/',
  team: 'Local Workspace',
  user: 'localbot',
  team_id: ws.teamId,
  user_id: ws.botUserId,
  bot_id: ws.botId,
  is_enterprise_install: false,
});

const postMessage: Handler = (ws, args) => {
  const channel = str(args, 'channel');
  if (!isChannelId(channel)) return fail('channel_not_found');
  const markdown = str(args, 'markdown_text');
  if (markdown !== undefined && (str(args, 'text') !== undefined || args.blocks !== undefined)) {
    return fail('markdown_text_conflict');
  }
  if (str(args, 'text') === undefined && markdown === undefined && !Array.isArray(args.blocks)) {
    return fail('no_text');
  }
  const problem = checkLengths(args);
  if (problem) return problem;
  const message = ws.post({
    channel,
    thread_ts: str(args, 'thread_ts'),
    text: markdown ?? str(args, 'text') ?? '',
    blocks: args.blocks as unknown[] | undefined,
    metadata: args.metadata,
  });
  return { ok: true, channel, ts: message.ts, message: ws.toApiMessage(message) };
};

// https://docs.slack.dev/reference/methods/chat.postEphemeral: seen by `user` only and never
// stored in the channel, so it is not in the thread; tests read it from the recorded calls.
const postEphemeral: Handler = (ws, args) => {
  const channel = str(args, 'channel');
  if (!isChannelId(channel)) return fail('channel_not_found');
  const user = str(args, 'user');
  if (user === undefined || !/^[UW][A-Z0-9]+$/.test(user)) return fail('user_not_found');
  if (str(args, 'text') === undefined && !Array.isArray(args.blocks)) return fail('no_text');
  const problem = checkLengths(args);
  if (problem) return problem;
  return { ok: true, message_ts: ws.nextTs() };
};

const update: Handler = (ws, args) => {
  const found = ownMessage(ws, args, 'cant_update_message');
  if ('ok' in found) return found;
  // A message still streaming cannot be edited (seen on Slack; see PLATFORM.md).
  if (ws.isStreaming(found)) return fail('streaming_state_conflict');
  const text = str(args, 'text') ?? str(args, 'markdown_text');
  if (text === undefined && !Array.isArray(args.blocks)) return fail('no_text');
  const problem = checkLengths(args);
  if (problem) return problem;
  const message = ws.edit(found, {
    text,
    blocks: args.blocks as unknown[] | undefined,
    metadata: args.metadata,
  });
  return {
    ok: true,
    channel: message.channel,
    ts: message.ts,
    text: message.text,
    message: ws.toApiMessage(message),
  };
};

const remove: Handler = (ws, args) => {
  const found = ownMessage(ws, args, 'cant_delete_message');
  if ('ok' in found) return found;
  ws.remove(found);
  return { ok: true, channel: found.channel, ts: found.ts };
};

// https://docs.slack.dev/reference/methods/chat.startStream
const startStream: Handler = (ws, args) => {
  const channel = str(args, 'channel');
  if (!isChannelId(channel)) return fail('channel_not_found');
  const threadTs = str(args, 'thread_ts');
  if (channel.startsWith('D') && threadTs === undefined) return invalidArguments('thread_ts');
  if (/^[CG]/.test(channel)) {
    // Outside a DM Slack needs to know whom the stream is for.
    if (str(args, 'recipient_user_id') === undefined) return invalidArguments('recipient_user_id');
    if (str(args, 'recipient_team_id') === undefined) return invalidArguments('recipient_team_id');
  }
  const mode = args.task_display_mode;
  if (mode !== undefined && mode !== 'timeline' && mode !== 'plan') {
    return invalid('invalid_arguments', 'must be one of timeline, plan', '/task_display_mode');
  }
  const problem = checkLengths(args);
  if (problem) return problem;
  const message = ws.post({ channel, thread_ts: threadTs, text: streamedText(args), streaming: true });
  recordTasks(message, args);
  if (str(args, 'task_display_mode') === 'plan') message.taskDisplay = 'plan';
  return { ok: true, channel, ts: message.ts };
};

const appendStream: Handler = (ws, args) => {
  const found = liveStream(ws, args);
  if ('ok' in found) return found;
  if (str(args, 'markdown_text') === undefined && !Array.isArray(args.chunks)) {
    return invalidArguments('markdown_text');
  }
  const problem = checkLengths(args);
  if (problem) return problem;
  // A streamed message holds about as much as one `markdown_text` (PLATFORM.md, seen on Slack).
  if (found.text.length + streamedText(args).length > MARKDOWN_TEXT_LIMIT) return fail('msg_too_long');
  ws.append(found, streamedText(args));
  recordTasks(found, args);
  return { ok: true, channel: found.channel, ts: found.ts };
};

const stopStream: Handler = (ws, args) => {
  const found = liveStream(ws, args);
  if ('ok' in found) return found;
  const problem = checkLengths(args);
  if (problem) return problem;
  if (found.text.length + streamedText(args).length > MARKDOWN_TEXT_LIMIT) return fail('msg_too_long');
  ws.append(found, streamedText(args));
  recordTasks(found, args);
  const message = ws.stop(found, args.blocks as unknown[] | undefined, args.metadata);
  return { ok: true, channel: message.channel, ts: message.ts, message: ws.toApiMessage(message) };
};

const setStatus: Handler = (ws, args) => {
  const channel = str(args, 'channel_id');
  const threadTs = str(args, 'thread_ts');
  if (!isChannelId(channel)) return fail('channel_not_found');
  if (threadTs === undefined) return invalidArguments('thread_ts');
  if (typeof args.status !== 'string') return invalidArguments('status');
  ws.setStatus(channel, threadTs, args.status);
  return { ok: true };
};

/** `assistant.threads.setSuggestedPrompts` takes "up to four" prompts. */
export const MAX_SUGGESTED_PROMPTS = 4;

// https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
const setSuggestedPrompts: Handler = (ws, args) => {
  const channel = str(args, 'channel_id');
  if (!isChannelId(channel)) return fail('channel_not_found');
  const prompts = args.prompts;
  if (prompts === undefined) return invalidArguments('prompts');
  if (!Array.isArray(prompts)) return invalid('invalid_arguments', 'must provide an array', '/prompts');
  if (prompts.length === 0) return invalid('invalid_arguments', 'must provide at least 1 item', '/prompts');
  if (prompts.length > MAX_SUGGESTED_PROMPTS) {
    return invalid('invalid_arguments', `no more than ${MAX_SUGGESTED_PROMPTS} items allowed`, '/prompts');
  }
  for (const [i, prompt] of prompts.entries()) {
    for (const field of ['title', 'message'] as const) {
      const value = (prompt as Record<string, unknown> | null)?.[field];
      if (typeof value !== 'string' || value === '') {
        return invalid('invalid_arguments', `missing required field: ${field}`, `/prompts/${i}/${field}`);
      }
    }
  }
  const title = str(args, 'title');
  ws.setSuggestedPrompts(channel, str(args, 'thread_ts'), {
    ...(title !== undefined ? { title } : {}),
    prompts: (prompts as Array<{ title: string; message: string }>).map(({ title, message }) => ({
      title,
      message,
    })),
  });
  return { ok: true };
};

// https://docs.slack.dev/reference/methods/assistant.threads.setTitle
const setTitle: Handler = (ws, args) => {
  const channel = str(args, 'channel_id');
  const threadTs = str(args, 'thread_ts');
  const title = str(args, 'title');
  if (!isChannelId(channel)) return fail('channel_not_found');
  if (threadTs === undefined) return invalidArguments('thread_ts');
  if (title === undefined) return invalidArguments('title');
  ws.setTitle(channel, threadTs, title);
  return { ok: true };
};

/** Default and maximum `limit` of `conversations.replies` (internal and Marketplace apps). */
export const REPLIES_MAX_LIMIT = 1000;

const micros = (ts: string): bigint => {
  const [seconds = '0', fraction = ''] = ts.split('.');
  return BigInt(seconds) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0');
};

// https://docs.slack.dev/reference/methods/conversations.replies: cursor pagination (`limit`,
// `cursor`, `has_more`, `response_metadata.next_cursor`), bounded by `oldest`/`latest`, exclusive
// unless `inclusive`. The cursor here is the index of the next message, base64-encoded.
const replies: Handler = (ws, args) => {
  const channel = str(args, 'channel');
  const ts = str(args, 'ts');
  if (!isChannelId(channel)) return fail('channel_not_found');
  if (ts === undefined) return invalidArguments('ts');
  const root = ws.find(channel, ts)?.thread_ts ?? ts;
  const thread = ws.thread(channel, root);
  if (thread.length === 0) return fail('thread_not_found');
  // Metadata only when asked for (https://docs.slack.dev/messaging/message-metadata).
  const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
  const inclusive = args.inclusive === true || args.inclusive === 'true' || args.inclusive === '1';
  const oldest = str(args, 'oldest');
  const latest = str(args, 'latest');
  const inRange = (m: SlackMessage) =>
    (oldest === undefined || (inclusive ? micros(m.ts) >= micros(oldest) : micros(m.ts) > micros(oldest))) &&
    (latest === undefined || (inclusive ? micros(m.ts) <= micros(latest) : micros(m.ts) < micros(latest)));
  const selected = thread.filter(inRange);
  const limit = Math.min(
    REPLIES_MAX_LIMIT,
    Math.max(1, Number(args.limit ?? REPLIES_MAX_LIMIT) || REPLIES_MAX_LIMIT),
  );
  const cursor = str(args, 'cursor');
  const start =
    cursor === undefined
      ? 0
      : Number(
          Buffer.from(cursor, 'base64')
            .toString('utf8')
            .replace(/^next:/, ''),
        );
  if (!Number.isInteger(start) || start < 0) return fail('invalid_cursor');
  const page = selected.slice(start, start + limit);
  const hasMore = start + limit < selected.length;
  return {
    ok: true,
    messages: page.map((m) => {
      const { metadata, ...api } = ws.toApiMessage(m);
      return withMetadata && metadata !== undefined ? { ...api, metadata } : api;
    }),
    has_more: hasMore,
    response_metadata: {
      next_cursor: hasMore ? Buffer.from(`next:${start + limit}`).toString('base64') : '',
    },
  };
};

// https://docs.slack.dev/reference/methods/users.info
const usersInfo: Handler = (ws, args) => {
  const id = str(args, 'user');
  if (id === undefined) return invalidArguments('user');
  const user = ws.user(id);
  if (user === undefined) return fail('user_not_found');
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: ws.teamId,
      name: user.name,
      deleted: false,
      real_name: user.realName ?? user.name,
      is_bot: false,
      profile: {
        real_name: user.realName ?? user.name,
        display_name: user.displayName ?? '',
        team: ws.teamId,
      },
    },
  };
};

const addReaction: Handler = (ws, args) => {
  const channel = str(args, 'channel');
  const ts = str(args, 'timestamp');
  const name = str(args, 'name');
  if (channel === undefined || ts === undefined) return fail('no_item_specified');
  if (name === undefined || !/^[a-z0-9_+'-]+$/.test(name)) return fail('invalid_name');
  const message = isChannelId(channel) ? ws.find(channel, ts) : undefined;
  if (message === undefined) return fail('message_not_found');
  return ws.react(message, name) ? { ok: true } : fail('already_reacted');
};

// https://docs.slack.dev/reference/methods/apps.connections.open (called with the app-level token)
const connectionsOpen: Handler = (ws) => ({ ok: true, url: ws.socketModeUrl() });

/** Methods that take an app-level token (`xapp-…`) instead of the bot token. */
export const APP_LEVEL_METHODS = new Set(['apps.connections.open']);

const searchContext: Handler = (ws, args) => searchMessages(ws, args);

const handlers: Record<string, Handler> = {
  'apps.connections.open': connectionsOpen,
  'assistant.search.context': searchContext,
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.postEphemeral': postEphemeral,
  'chat.update': update,
  'chat.delete': remove,
  'chat.startStream': startStream,
  'chat.appendStream': appendStream,
  'chat.stopStream': stopStream,
  'assistant.threads.setStatus': setStatus,
  'assistant.threads.setSuggestedPrompts': setSuggestedPrompts,
  'assistant.threads.setTitle': setTitle,
  'conversations.replies': replies,
  'users.info': usersInfo,
  'reactions.add': addReaction,
};

/** Answers one Web API call against the workspace, as Slack would with a valid token. */
export function callMethod(ws: SlackWorkspace, method: string, args: SlackArgs): SlackResponse {
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (handler === undefined) return { ok: false, error: 'unknown_method', req_method: method };
  if (STREAMING_METHODS.has(method) && !ws.features.streaming) return fail('feature_not_enabled');
  return handler(ws, args);
}
