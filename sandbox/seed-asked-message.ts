import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { SlackPeer } from './peers/slack-peer';

type Inner = {
  user?: unknown;
  channel?: unknown;
  ts?: unknown;
  thread_ts?: unknown;
  text?: unknown;
  files?: unknown;
};

/**
 * Puts the user's message of a Slack event into the local Slack peer, as it would already be in
 * the channel in Slack, so a printed thread shows the question above the answer. Only plain user
 * messages (a mention or a DM, with its files if shared); anything else, or a message already
 * there (a Slack retry), is left alone.
 */
export function seedAskedMessage(slack: SlackPeer, event: APIGatewayProxyEventV2): void {
  let body: { type?: unknown; event?: Inner & { subtype?: unknown; bot_id?: unknown } };
  try {
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
    body = JSON.parse(raw ?? '');
  } catch {
    return;
  }
  const inner = body?.event;
  const subtype = inner?.subtype;
  if (body?.type !== 'event_callback' || !inner || (subtype !== undefined && subtype !== 'file_share'))
    return;
  if (inner.bot_id !== undefined) return;
  const { user, channel, ts, thread_ts: threadTs, text } = inner;
  if (typeof user !== 'string' || typeof channel !== 'string' || typeof ts !== 'string') return;
  if (slack.thread(channel, typeof threadTs === 'string' ? threadTs : ts).some((m) => m.ts === ts)) return;
  try {
    slack.seedMessage({
      channel,
      ts,
      ...(typeof threadTs === 'string' && threadTs !== ts ? { thread_ts: threadTs } : {}),
      user,
      text: typeof text === 'string' ? text : '',
      ...(Array.isArray(inner.files) ? { files: inner.files as Array<Record<string, unknown>> } : {}),
    });
  } catch {
    // The ts is taken in that channel (an odd replayed file): the thread is still printed.
  }
}
