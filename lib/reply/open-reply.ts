import type { Logger } from '@aws-lambda-powertools/logger';
import type { StreamingAvailability } from '../history/streaming-availability';
import type { AnswerReply, ReplyRecord } from './answer-reply';
import { EditReply } from './edit-reply';
import type { FoundReply, SlackWrites } from './slack-writes';
import { StreamReply } from './stream-reply';
import { withinTime } from './time-left';
import { replyBudget, unlimitedWriteBudget, type WriteBudget } from './write-budget';

/** How answers are shown: `SLACK_STREAMING`. */
export type StreamingMode = 'auto' | 'native' | 'edit';

/** The conversation a reply goes to. */
export interface ReplyTarget {
  eventId: string;
  teamId: string;
  channel: string;
  threadTs: string;
  /** The asking message's `ts`. */
  askedTs: string;
  user: string;
  /** The asking user's team (differs from `teamId` in shared channels). */
  userTeamId?: string | undefined;
  isDm: boolean;
  botUserId?: string | undefined;
}

/** What the use case says about earlier attempts at the same event. */
export interface ReplyResume {
  /** Messages an earlier attempt recorded. */
  previous?: ReplyRecord | undefined;
  /**
   * An earlier attempt may have posted without recording it (its claim save failed): look for
   * its messages in the thread by their tags before posting anything.
   */
  lookInThread: boolean;
}

/** Per-answer settings the adapters need from the use case. */
export interface ReplyContext {
  timeLeftMs: () => number;
  onMessages: (record: ReplyRecord) => Promise<void>;
  logger: Logger;
}

/** Opens the reply for one answer: the use case's single way in to the two adapters. */
export interface ReplyOpener {
  /** @throws {SlackCallError} when the thread could not be searched for an earlier attempt's messages. */
  open(target: ReplyTarget, resume: ReplyResume, context: ReplyContext): Promise<AnswerReply>;
}

/** Texts the adapters show. */
export interface ReplyTexts {
  placeholder: string;
  status: { text: string; loadingMessages: string[] };
  refusedNote: string;
}

/**
 * Chooses the adapter. A redelivery resumes what an earlier attempt posted, always on the edit path
 * (a stream left open by a crash is stopped first: nothing stays "streaming", nothing is posted
 * twice). Otherwise `edit` edits, `native` streams, and `auto` streams unless the workspace is
 * remembered as refusing it, falling back to edits when Slack refuses.
 */
export function replyOpener(options: {
  slack: SlackWrites;
  mode: StreamingMode;
  availability: StreamingAvailability;
  editIntervalMs: number;
  appendIntervalMs: number;
  texts: ReplyTexts;
  /** The write budget shared by all replies of a workspace; default: none (per-reply pacing only). */
  budget?: WriteBudget;
}): ReplyOpener {
  const { slack, mode, availability, texts } = options;
  const shared = options.budget ?? unlimitedWriteBudget;
  return {
    async open(target, resume, context) {
      const { logger } = context;
      // What both adapters are built with: where the reply goes, its time, budget and bookkeeping.
      const common = {
        slack,
        channel: target.channel,
        threadTs: target.threadTs,
        eventId: target.eventId,
        askedTs: target.askedTs,
        botUserId: target.botUserId,
        timeLeftMs: context.timeLeftMs,
        budget: replyBudget(shared, target.teamId, target.channel),
        onMessages: context.onMessages,
        logger,
      };
      const edit = (messageTs: readonly string[]) =>
        new EditReply({
          ...common,
          messageTs,
          placeholder: texts.placeholder,
          intervalMs: options.editIntervalMs,
        });

      let earlier = resume.previous;
      if (resume.lookInThread) {
        const found = await withinTime('conversations.replies', context.timeLeftMs(), () =>
          slack.findReplies(target.channel, target.threadTs, target.askedTs, target.botUserId),
        );
        const merged = mergeFound(target.eventId, earlier, found);
        if (merged.messageTs.length > (earlier?.messageTs.length ?? 0)) {
          logger.info('found messages of an earlier attempt in the thread; resuming them', {
            recorded: earlier?.messageTs.length ?? 0,
            messages: merged.messageTs.length,
          });
          earlier = merged;
          await context.onMessages(earlier);
        }
      }
      if (earlier?.messageTs.length) {
        if (earlier.path === 'native') {
          for (const ts of earlier.messageTs) {
            // Ends a stream a crash left open; one already stopped answers not_in_streaming_state.
            await withinTime('chat.stopStream', context.timeLeftMs(), () =>
              slack.stopStream({ channel: target.channel, ts }),
            ).catch(() => undefined);
          }
        }
        return edit(earlier.messageTs);
      }

      if (mode === 'edit' || (mode === 'auto' && (await isOff(availability, target.teamId, logger)))) {
        return edit([]);
      }
      return new StreamReply({
        ...common,
        ...(target.isDm
          ? {}
          : { recipient: { userId: target.user, teamId: target.userTeamId ?? target.teamId } }),
        status: texts.status,
        intervalMs: options.appendIntervalMs,
        fallback: mode === 'auto' ? edit : undefined,
        onUnavailable: async (slackError) => {
          await availability.markOff(target.teamId, slackError).catch((error) => {
            logger.warn('could not remember that streaming is off here', { error: error as Error });
          });
        },
        refusedNote: texts.refusedNote,
      });
    },
  };
}

async function isOff(availability: StreamingAvailability, teamId: string, logger: Logger): Promise<boolean> {
  try {
    return await availability.isOff(teamId);
  } catch (error) {
    logger.warn('Momento unavailable; trying native streaming', { error: error as Error });
    return false;
  }
}

/**
 * The messages of an earlier attempt: those its claim recorded, completed by what the thread shows
 * with this event's tag (by chunk index) and by untagged messages of the bot after the question
 * (streams that were never stopped). Duplicates of a chunk go last, so the final write deletes them.
 */
export function mergeFound(
  eventId: string,
  recorded: ReplyRecord | undefined,
  found: FoundReply[],
): ReplyRecord {
  const messageTs = [...(recorded?.messageTs ?? [])];
  const known = new Set(messageTs);
  const extras: string[] = [];
  for (const m of found) {
    if (known.has(m.ts) || (m.tag && m.tag.eventId !== eventId)) continue;
    known.add(m.ts);
    const chunk = m.tag?.chunk;
    if (chunk !== undefined && messageTs[chunk] === undefined && chunk <= messageTs.length)
      messageTs[chunk] = m.ts;
    else extras.push(m.ts);
  }
  const untagged = found.some((m) => !m.tag && extras.includes(m.ts));
  return {
    path: recorded?.path === 'native' || untagged ? 'native' : (recorded?.path ?? 'edit'),
    messageTs: [...messageTs, ...extras],
  };
}
