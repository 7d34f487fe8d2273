import { tsMillis } from '../slack/slack-ts';
import { withinTime } from '../slack/web-api-call';
import type { ReplyAdapterOptions, ReplyRecord } from './answer-reply';
import type { FoundReply } from './slack-reply-api';

/**
 * Which bot messages of a thread belong to the event being answered, so that a redelivery or a
 * lost answer resumes its own reply and never takes over another question's.
 *
 * A message is this event's when it carries this event's tag (posts are tagged when made, streams
 * when stopped), or when it carries no tag (a stream that was never stopped) and Slack created it
 * after `ownSince`: when this event was first claimed (else its record's first receive). Records
 * of a thread are answered one at a time (the FIFO group is the thread), so every message the bot
 * created in the thread after that moment is this event's; anything older belongs to an earlier
 * question, however recently it was written to. Without `ownSince`, untagged messages are never
 * adopted.
 */
export function isOwnMessage(message: FoundReply, eventId: string, ownSince: number | undefined): boolean {
  if (message.tag) return message.tag.eventId === eventId;
  return ownSince !== undefined && tsMillis(message.ts) >= ownSince;
}

/**
 * This event's own messages in the thread after the question ({@link isOwnMessage}), oldest first,
 * searched within the time left. Untagged ones only with `botUserId` (see `SlackWrites.findReplies`).
 * @throws {SlackCallError} when the thread could not be searched.
 */
export async function findOwnMessages(
  o: Pick<
    ReplyAdapterOptions,
    'slack' | 'channel' | 'threadTs' | 'askedTs' | 'eventId' | 'ownSince' | 'botUserId' | 'timeLeftMs'
  >,
): Promise<FoundReply[]> {
  const found = await withinTime('conversations.replies', o.timeLeftMs(), () =>
    o.slack.findReplies(o.channel, o.threadTs, o.askedTs, o.botUserId),
  );
  return found.filter((m) => isOwnMessage(m, o.eventId, o.ownSince));
}

/**
 * The messages of an earlier attempt: those its claim recorded, completed by this event's own
 * messages found in the thread: tagged ones in their chunk's place, untagged ones (streams never
 * stopped) after them. A second copy of a chunk goes last, so the final write deletes it.
 */
export function mergeFound(
  eventId: string,
  recorded: ReplyRecord | undefined,
  found: readonly FoundReply[],
  ownSince: number | undefined,
): ReplyRecord {
  const messageTs = [...(recorded?.messageTs ?? [])];
  const streaming = new Set(recorded?.streaming ?? []);
  const known = new Set(messageTs);
  const extras: string[] = [];
  for (const m of found) {
    if (known.has(m.ts) || !isOwnMessage(m, eventId, ownSince)) continue;
    known.add(m.ts);
    const chunk = m.tag?.chunk;
    if (chunk !== undefined && messageTs[chunk] === undefined && chunk <= messageTs.length)
      messageTs[chunk] = m.ts;
    else extras.push(m.ts);
    if (!m.tag) streaming.add(m.ts);
  }
  const path = recorded?.path === 'native' || streaming.size > 0 ? 'native' : (recorded?.path ?? 'edit');
  return {
    path,
    messageTs: [...messageTs, ...extras],
    ...(streaming.size > 0 || recorded?.streaming ? { streaming: [...streaming] } : {}),
  };
}
