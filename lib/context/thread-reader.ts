import type { ConversationsRepliesResponse, WebClient } from '@slack/web-api';
import { SlackCallError } from '../errors';
import { isAfter } from '../slack/slack-ts';
import { call, slackErrorCode } from '../slack/web-api-call';

/** One message of a Slack thread, as far as the prompt needs it. */
export interface ThreadMessage {
  ts: string;
  /** The author's user id (absent on some bot and system messages). */
  user?: string;
  /** Set when an app posted it. */
  botId?: string;
  /** A bot's display name (`bot_profile.name` or `username`), for other apps' messages. */
  botName?: string;
  text: string;
  /** Names of files attached to it (not downloaded: only the asking message's files are read). */
  files: string[];
}

/** What one read of a thread gave. */
export interface ThreadRead {
  /** Oldest first, strictly between `oldest` and `latest`. */
  messages: ThreadMessage[];
  /** Why the read stopped early, when it did: a Slack error code, `timeout`, or `page_limit`. */
  stoppedBy?: string;
  /** Seconds Slack asked to wait, when it answered 429. */
  retryAfter?: number;
  /** `conversations.replies` calls made. */
  calls: number;
}

/** Reads the messages of a Slack thread. Never throws for Slack's refusals: it degrades. */
export interface ThreadReader {
  read(input: {
    channel: string;
    threadTs: string;
    /** Only messages after this ts (exclusive); the whole thread when absent. */
    oldest?: string;
    /** Only messages before this ts (exclusive): the question being answered. */
    latest: string;
    /** Epoch milliseconds by which to have returned, with whatever was read. */
    deadline: number;
  }): Promise<ThreadRead>;
}

/** Messages per page. The method's maximum is 1000; Slack recommends no more than 200. */
export const PAGE_LIMIT = 200;
/** Pages per read: a thread longer than this many pages is read from its start up to this bound. */
export const MAX_PAGES = 5;

/** A message as `conversations.replies` lists it; the SDK's type lacks `username`. */
type ApiMessage = NonNullable<ConversationsRepliesResponse['messages']>[number] & { username?: string };

/**
 * `conversations.replies` as a {@link ThreadReader}, with the worker's `WebClient` passed in (no
 * client retries, `rejectRateLimitedCalls`: a 429 comes back at once instead of being waited out).
 * https://docs.slack.dev/reference/methods/conversations.replies: cursor-paginated oldest first;
 * `oldest`/`latest` bound it (exclusive unless `inclusive`); the parent message comes first.
 * Tier 3 for internal and Marketplace apps; commercially distributed non-Marketplace apps get
 * 1 request/minute and 15 messages per page, so calls per answer are kept to one page usually.
 *
 * `missing_scope`, `not_in_channel`, a 429, a timeout or any other Slack failure ends the read
 * with what it has and says why (`stoppedBy`, for the caller's WARN): the answer matters more.
 */
export function slackThreadReader(client: WebClient): ThreadReader {
  return {
    async read({ channel, threadTs, oldest, latest, deadline }) {
      const messages: ThreadMessage[] = [];
      let cursor: string | undefined;
      let calls = 0;
      const stop = (stoppedBy: string, retryAfter?: number): ThreadRead => ({
        messages,
        stoppedBy,
        calls,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      });
      for (let page = 0; page < MAX_PAGES; page++) {
        const left = deadline - Date.now();
        if (left <= 0) return stop('timeout');
        calls++;
        let response: ConversationsRepliesResponse;
        try {
          response = await call(
            'conversations.replies',
            () =>
              client.conversations.replies({
                channel,
                ts: threadTs,
                limit: PAGE_LIMIT,
                latest,
                ...(oldest ? { oldest } : {}),
                inclusive: false,
                ...(cursor ? { cursor } : {}),
              }),
            left,
          );
        } catch (error) {
          if (!(error instanceof SlackCallError)) throw error;
          return stop(slackErrorCode(error), error.retryAfterSeconds);
        }
        for (const m of response.messages ?? []) {
          if (m.ts && isAfter(m.ts, oldest) && isAfter(latest, m.ts)) messages.push(toThreadMessage(m.ts, m));
        }
        cursor = response.response_metadata?.next_cursor || undefined;
        if (!response.has_more || !cursor) return { messages, calls };
      }
      return stop('page_limit');
    },
  };
}

function toThreadMessage(ts: string, m: ApiMessage): ThreadMessage {
  return {
    ts,
    ...(m.user ? { user: m.user } : {}),
    ...(m.bot_id ? { botId: m.bot_id } : {}),
    ...((m.bot_profile?.name ?? m.username) ? { botName: m.bot_profile?.name ?? m.username } : {}),
    text: m.text ?? '',
    files: (m.files ?? []).map((f) => f.name ?? f.title ?? 'a file'),
  };
}
