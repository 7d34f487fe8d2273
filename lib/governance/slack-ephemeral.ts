import type { WebClient } from '@slack/web-api';
import { call } from '../slack/web-api-call';

/**
 * `chat.postEphemeral`: a message only `user` sees, in `channel` (a DM included)
 * (https://docs.slack.dev/reference/methods/chat.postEphemeral). `thread_ts` only for a thread
 * that already exists: Slack shows ephemeral messages in threads only then.
 * @throws {SlackCallError}; the caller treats the note as best effort.
 */
export function slackEphemeral(client: WebClient) {
  return async (note: { channel: string; user: string; text: string; threadTs?: string }): Promise<void> => {
    await call('chat.postEphemeral', () =>
      client.chat.postEphemeral({
        channel: note.channel,
        user: note.user,
        text: note.text,
        ...(note.threadTs ? { thread_ts: note.threadTs } : {}),
      }),
    );
  };
}
