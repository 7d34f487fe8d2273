import {
  fail,
  invalidArguments,
  type SlackArgs,
  type SlackResponse,
  type SlackWorkspace,
  str,
} from './slack-peer-methods';

/** `assistant.search.context` returns at most this many results per page. */
export const SEARCH_MAX_LIMIT = 20;

// https://docs.slack.dev/reference/methods/assistant.search.context: with a bot token, only with
// the asking user's `action_token`, and only what that user can see (public channels, and the
// private channels, DMs and group DMs they are a member of). Matching here: every word of the
// query in the message (case-insensitive); bots' messages only with `include_bots`.
export function searchMessages(ws: SlackWorkspace, args: SlackArgs): SlackResponse {
  const query = str(args, 'query');
  if (query === undefined) return invalidArguments('query');
  const token = str(args, 'action_token');
  if (token === undefined) return fail('invalid_action_token', ['[ERROR] a bot token needs an action_token']);
  const user = ws.actionTokenUser(token);
  if (user === undefined) return fail('invalid_action_token');
  // Without `channel_types` only public channels, the narrowest reading of the method's default.
  const types = (str(args, 'channel_types') ?? 'public_channel').split(',');
  const typeOf = (channel: string) =>
    channel.startsWith('C')
      ? 'public_channel'
      : channel.startsWith('D')
        ? 'im'
        : ws.isGroupDm(channel)
          ? 'mpim'
          : 'private_channel';
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  const after = Number(args.after ?? 0);
  const before = Number(args.before ?? Number.POSITIVE_INFINITY);
  const includeBots = args.include_bots === true || args.include_bots === 'true';
  const limit = Math.min(
    SEARCH_MAX_LIMIT,
    Math.max(1, Number(args.limit ?? SEARCH_MAX_LIMIT) || SEARCH_MAX_LIMIT),
  );
  const found = ws
    .allMessages()
    .filter((m) => typeOf(m.channel) === 'public_channel' || ws.isMember(m.channel, user))
    .filter((m) => types.includes(typeOf(m.channel)))
    .filter((m) => includeBots || m.bot_id === undefined)
    .filter((m) => Number(m.ts) >= after && Number(m.ts) < before)
    .filter((m) => words.every((w) => m.text.toLowerCase().includes(w)))
    .slice(0, limit);
  return {
    ok: true,
    results: {
      messages: found.map((m) => ({
        author_user_id: m.user,
        team_id: ws.teamId,
        channel_id: m.channel,
        message_ts: m.ts,
        content: m.text,
        is_author_bot: m.bot_id !== undefined,
        permalink: `https://local-workspace.slack.com/archives/${m.channel}/p${m.ts.replace('.', '')}`,
      })),
    },
    response_metadata: { next_cursor: '' },
  };
}
