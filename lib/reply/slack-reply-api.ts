import type { WebClient } from '@slack/web-api';
import type { SlackCallError } from '../errors';
import { compareTs } from '../slack/slack-ts';
import { call, MissingTsError } from '../slack/web-api-call';
import type { StepUpdate } from './answer-reply';

/**
 * Identifies a message of a reply: the Slack event it answers and its place in the reply. Posted as
 * message metadata (https://docs.slack.dev/messaging/message-metadata), so that after a post whose
 * answer was lost the message can be found in the thread instead of being posted twice.
 */
export interface ReplyTag {
  eventId: string;
  /** 0 for the first message of the reply, 1 for its first continuation, … */
  chunk: number;
}

/** The metadata `event_type` of every message this bot posts as a reply. */
export const REPLY_EVENT_TYPE = 'slack_gpt_bot_reply';

/** A message of the thread written by this bot, as {@link SlackWrites.findReplies} reports it. */
export interface FoundReply {
  ts: string;
  /** From the message's metadata; absent when it carries none (e.g. a stream that never stopped). */
  tag?: ReplyTag;
}

/** What one write to a native stream adds: task cards (`task_update` chunks, first) and Markdown text. */
export interface StreamContent {
  markdown?: string;
  tasks?: readonly StepUpdate[];
}

/** What the reply adapters need from Slack: thread messages, native streams and the thread status. */
export interface SlackWrites {
  /** Posts in the thread; returns the new message's `ts`. */
  post(input: {
    channel: string;
    threadTs: string;
    text: string;
    blocks?: unknown[];
    tag: ReplyTag;
  }): Promise<string>;
  update(input: {
    channel: string;
    ts: string;
    text: string;
    blocks?: unknown[];
    tag?: ReplyTag;
  }): Promise<void>;
  remove(channel: string, ts: string): Promise<void>;
  /**
   * `chat.startStream`; returns the stream message's `ts`. `plan` shows the task cards together in
   * a plan block instead of a timeline.
   */
  startStream(input: {
    channel: string;
    threadTs: string;
    content: StreamContent;
    recipient?: { userId: string; teamId: string };
    plan?: boolean;
  }): Promise<string>;
  appendStream(channel: string, ts: string, content: StreamContent): Promise<void>;
  stopStream(input: {
    channel: string;
    ts: string;
    content?: StreamContent;
    blocks?: unknown[];
    tag?: ReplyTag;
  }): Promise<void>;
  setStatus(channel: string, threadTs: string, status: string, loadingMessages?: string[]): Promise<void>;
  /**
   * This bot's messages in the thread after `afterTs`, oldest first, with their reply tags.
   * @param botUserId the bot's user id, when known; otherwise messages are recognised by their tag.
   */
  findReplies(channel: string, threadTs: string, afterTs: string, botUserId?: string): Promise<FoundReply[]>;
}

/** At most this many pages of `conversations.replies` when looking for a reply's messages. */
const FIND_PAGES = 3;

/**
 * The arguments that carry stream content: `markdown_text` alone, or `chunks` when there are task
 * cards (cards first, then the text): https://docs.slack.dev/reference/methods/chat.appendStream
 * ("Using the chunks parameter").
 */
function streamArgs(content: StreamContent | undefined): Record<string, unknown> {
  const tasks = content?.tasks ?? [];
  const markdown = content?.markdown ?? '';
  if (tasks.length === 0) return markdown ? { markdown_text: markdown } : {};
  return {
    chunks: [
      ...tasks.map((t) => ({
        type: 'task_update',
        id: t.id,
        title: t.title,
        status: t.status,
        ...(t.details ? { details: t.details } : {}),
        ...(t.output ? { output: t.output } : {}),
        ...(t.sources?.length
          ? { sources: t.sources.map((s) => ({ type: 'url', url: s.url, text: s.text })) }
          : {}),
      })),
      ...(markdown ? [{ type: 'markdown_text', text: markdown }] : []),
    ],
  };
}

const metadata = (tag: ReplyTag) => ({
  event_type: REPLY_EVENT_TYPE,
  event_payload: { event_id: tag.eventId, chunk: tag.chunk },
});

/**
 * The Slack Web API as {@link SlackWrites}. Build the client with `rejectRateLimitedCalls: true` and
 * no retries, so a 429 surfaces here with its `Retry-After` and nothing is sent twice behind our
 * back: the reply adapters decide what is safe to retry (https://docs.slack.dev/apis/web-api/rate-limits).
 * Posts never unfurl: an answer's links stay links without previews Slack would fetch for them.
 */
export function slackWrites(client: WebClient): SlackWrites {
  return {
    async post({ channel, threadTs, text, blocks, tag }) {
      const res = await call('chat.postMessage', () =>
        client.chat.postMessage({
          channel,
          thread_ts: threadTs,
          text,
          ...(blocks ? { blocks: blocks as never } : {}),
          mrkdwn: true,
          unfurl_links: false,
          unfurl_media: false,
          metadata: metadata(tag),
        }),
      );
      if (!res.ts) throw new MissingTsError('chat.postMessage');
      return res.ts;
    },
    async update({ channel, ts, text, blocks, tag }) {
      await call('chat.update', () =>
        client.chat.update({
          channel,
          ts,
          text,
          // An empty list removes blocks an earlier write added (the feedback buttons of a final write).
          blocks: (blocks ?? []) as never,
          ...(tag ? { metadata: metadata(tag) } : {}),
        }),
      );
    },
    async remove(channel, ts) {
      await call('chat.delete', () => client.chat.delete({ channel, ts }));
    },
    // https://docs.slack.dev/reference/methods/chat.startStream: in channels the stream names its
    // recipient (the asking user and that user's team, not necessarily ours in shared channels).
    // `task_display_mode`: `plan` renders the task cards together in a plan block.
    async startStream({ channel, threadTs, content, recipient, plan }) {
      const res = await call('chat.startStream', () =>
        client.chat.startStream({
          channel,
          thread_ts: threadTs,
          ...streamArgs(content),
          ...(plan ? { task_display_mode: 'plan' } : {}),
          ...(recipient ? { recipient_user_id: recipient.userId, recipient_team_id: recipient.teamId } : {}),
        } as never),
      );
      if (!res.ts) throw new MissingTsError('chat.startStream');
      return res.ts;
    },
    // https://docs.slack.dev/reference/methods/chat.appendStream (Tier 4)
    async appendStream(channel, ts, content) {
      await call('chat.appendStream', () =>
        client.chat.appendStream({ channel, ts, ...streamArgs(content) } as never),
      );
    },
    // https://docs.slack.dev/reference/methods/chat.stopStream: `blocks` render under the text.
    async stopStream({ channel, ts, content, blocks, tag }) {
      await call('chat.stopStream', () =>
        client.chat.stopStream({
          channel,
          ts,
          ...streamArgs(content),
          ...(blocks ? { blocks: blocks as never } : {}),
          ...(tag ? { metadata: metadata(tag) } : {}),
        }),
      );
    },
    // https://docs.slack.dev/reference/methods/assistant.threads.setStatus ('' clears it)
    async setStatus(channel, threadTs, status, loadingMessages) {
      await call('assistant.threads.setStatus', () =>
        client.assistant.threads.setStatus({
          channel_id: channel,
          thread_ts: threadTs,
          status,
          ...(loadingMessages?.length ? { loading_messages: loadingMessages } : {}),
        }),
      );
    },
    // https://docs.slack.dev/reference/methods/conversations.replies (`include_all_metadata`)
    async findReplies(channel, threadTs, afterTs, botUserId) {
      const found: FoundReply[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < FIND_PAGES; page++) {
        const res = await call('conversations.replies', () =>
          client.conversations.replies({
            channel,
            ts: threadTs,
            oldest: afterTs,
            include_all_metadata: true,
            limit: 200,
            ...(cursor ? { cursor } : {}),
          }),
        ).catch((error: SlackCallError) => {
          // No such thread: nothing of ours is in it.
          if (error.slackError === 'thread_not_found') return undefined;
          throw error;
        });
        for (const m of res?.messages ?? []) {
          if (!m.ts || m.ts === threadTs || compareTs(m.ts, afterTs) <= 0) continue;
          const tag = readTag(m.metadata as Metadata | undefined);
          if (tag) found.push({ ts: m.ts, tag });
          else if (botUserId !== undefined && m.user === botUserId && !m.metadata) found.push({ ts: m.ts });
        }
        cursor = res?.response_metadata?.next_cursor || undefined;
        if (!res?.has_more || !cursor) break;
      }
      return found.sort((a, b) => compareTs(a.ts, b.ts));
    },
  };
}

type Metadata = { event_type?: string; event_payload?: Record<string, unknown> };

function readTag(m: Metadata | undefined): ReplyTag | undefined {
  if (m?.event_type !== REPLY_EVENT_TYPE) return undefined;
  const { event_id: eventId, chunk } = m.event_payload ?? {};
  if (typeof eventId !== 'string' || typeof chunk !== 'number') return undefined;
  return { eventId, chunk };
}
