import type { WebClient } from '@slack/web-api';
import type { UserNames } from '../context/user-names';
import type { Logger } from '../logger';
import { call, slackErrorCode } from '../slack/web-api-call';
import { abortableClient } from '../slack/web-client';
import { failed, stringArg, type Tool, type ToolOutcome } from './tool';

/** The model gets at most this many messages (the method returns up to 20 a page). */
const SEARCH_RESULTS = 10;

const CHANNEL_TYPES = ['public_channel', 'private_channel', 'mpim', 'im'] as const;

/** One message of `assistant.search.context`'s `results.messages`. */
interface SearchMessage {
  author_user_id?: string;
  channel_id?: string;
  channel_name?: string;
  message_ts?: string;
  content?: string;
  is_author_bot?: boolean;
  permalink?: string;
}

/** What the search needs of the question: whose it is and the token Slack sent with it. */
export interface SearchScope {
  teamId: string;
  /** The asking user's event `action_token`; absent: the tool says search is not possible. */
  actionToken: string | undefined;
  /**
   * Whether the answer is seen by the asker alone (a DM with the bot). Elsewhere it is posted where
   * others read it, so only public channels are searched: what the asker may see in private
   * channels, DMs and group DMs never reaches a thread that other people read.
   */
  answerIsPrivate: boolean;
}

/**
 * The conversation types a search may cover: all the asker can see in a DM with the bot, public
 * channels elsewhere; narrowed to what the model asked for within that. Always sent explicitly:
 * the method's own default is not what either case needs.
 */
function searchedChannelTypes(requested: unknown, answerIsPrivate: boolean): string[] {
  const allowed: readonly string[] = answerIsPrivate ? CHANNEL_TYPES : ['public_channel'];
  const asked = Array.isArray(requested) ? requested.filter((t) => allowed.includes(t as string)) : [];
  return asked.length > 0 ? (asked as string[]) : [...allowed];
}

/** Slack errors after which search is off for this instance's life; WARNed once each. */
const warned = new Set<string>();

/**
 * `search_slack`: Slack's Real-time Search API, `assistant.search.context`
 * (https://docs.slack.dev/reference/methods/assistant.search.context, guide
 * https://docs.slack.dev/apis/web-api/real-time-search-api), called with the bot token and the
 * `action_token` of the asking user's event, so Slack returns only what that user can see. Never
 * called without one. Up to {@link SEARCH_RESULTS} messages, each with its author's name, channel,
 * date and permalink; the permalinks are the step's sources. When Slack refuses (`missing_scope`,
 * the API not enabled or in beta for this workspace, `ratelimited`, …) the tool tells the model
 * search is unavailable, WARNs once per instance and error code, and the answer goes on.
 * Method rate: "10+ per minute" for most teams (special rate limits, same page).
 */
export function searchSlackTool(client: WebClient, scope: SearchScope, names: UserNames): Tool {
  return {
    name: 'search_slack',
    description:
      'Search the messages of this Slack workspace that the person asking can see (in a channel: public ' +
      'channels only; in a DM with the assistant: also their private channels, DMs and group DMs). Use it for questions about what people said or decided in Slack. Returns up to 10 ' +
      'messages with author, channel, date and permalink; cite the permalinks.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'Keywords or a short question to search for.' },
        channel_types: {
          type: 'array',
          items: { type: 'string', enum: [...CHANNEL_TYPES] },
          description:
            'Only these kinds of conversation. In a channel only public channels are searched (the ' +
            'answer is seen by others); in a DM with the assistant, all that the person can see.',
        },
        after: { type: 'string', description: 'Only messages on or after this date, YYYY-MM-DD.' },
        before: { type: 'string', description: 'Only messages before this date, YYYY-MM-DD.' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    title: (args) => `Searching Slack for “${stringArg(args, 'query') ?? '…'}”`,
    trace: (args) => `searched Slack: ${stringArg(args, 'query') ?? ''}`,
    async run(args, context) {
      const query = stringArg(args, 'query');
      if (!query) return failed('The search needs a `query`.', 'No query');
      if (!scope.actionToken) {
        return failed(
          'Slack search is not available for this question: Slack sent no action token with it. Answer ' +
            'without searching.',
          'Not available for this question',
        );
      }
      let response: { results?: { messages?: SearchMessage[] } };
      try {
        response = (await call('assistant.search.context', () =>
          abortableClient(client, context.signal).apiCall('assistant.search.context', {
            query,
            action_token: scope.actionToken,
            content_types: 'messages',
            channel_types: searchedChannelTypes(args.channel_types, scope.answerIsPrivate).join(','),
            // The Web API client leaves out parameters that are undefined.
            after: epochOf(args.after),
            before: epochOf(args.before),
            limit: SEARCH_RESULTS,
          }),
        )) as typeof response;
      } catch (error) {
        if (context.signal.aborted) throw error;
        return unavailable(slackErrorCode(error), context.logger);
      }
      const found = (response.results?.messages ?? []).slice(0, SEARCH_RESULTS);
      if (found.length === 0)
        return { ok: true, content: 'No messages matched.', output: 'No messages found' };
      const authors = [...new Set(found.flatMap((m) => (m.author_user_id ? [m.author_user_id] : [])))];
      const named = await names.names(scope.teamId, authors, context.deadline, context.logger);
      const lines = found.map((m, i) => {
        const author = (m.author_user_id && named.get(m.author_user_id)) ?? m.author_user_id ?? 'someone';
        const where = m.channel_name ? `#${m.channel_name}` : (m.channel_id ?? 'a conversation');
        const when = dateOf(m.message_ts);
        return (
          `${i + 1}. ${author} in ${where}, ${when}${m.is_author_bot ? ' (an app)' : ''}\n   ` +
          `${m.permalink ?? ''}\n   ${(m.content ?? '').replace(/\n/g, '\n   ')}`
        );
      });
      const count = `${found.length} message${found.length === 1 ? '' : 's'} found`;
      return {
        ok: true,
        content: `${count}:\n${lines.join('\n')}`,
        output: count,
        sources: found.flatMap(({ permalink: url, author_user_id: user, message_ts: ts }) =>
          url ? [{ url, text: `${named.get(user ?? '') ?? 'Message'}, ${dateOf(ts)}` }] : [],
        ),
      };
    },
  };
}

/** Slack refused the search: tell the model, WARN once per code in this instance. */
function unavailable(code: string, logger: Logger): ToolOutcome {
  if (!warned.has(code)) {
    warned.add(code);
    logger.warn('Slack search is not available; answering without it', { slackError: code });
  }
  const why =
    code === 'ratelimited'
      ? 'Slack is rate limiting searches right now'
      : code === 'missing_scope'
        ? 'the app lacks the search:read scopes (reinstall it with the current manifest)'
        : `Slack refused the search (${code})`;
  return failed(
    `Slack search is not available: ${why}. Answer without searching, and say that you could not search.`,
    code === 'ratelimited' ? 'Rate limited by Slack' : `Not available (${code})`,
  );
}

/** `YYYY-MM-DD` → epoch seconds (UTC midnight), the method's `before`/`after`. */
function epochOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) return undefined;
  const ms = Date.parse(`${value.trim()}T00:00:00Z`);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** A message ts as `YYYY-MM-DD HH:MM UTC`. */
function dateOf(ts: string | undefined): string {
  const seconds = Number(ts?.split('.')[0]);
  if (!Number.isFinite(seconds) || seconds <= 0) return 'unknown date';
  return `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
