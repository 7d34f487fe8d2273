import type { Logger } from '@aws-lambda-powertools/logger';
import type { AnswerJob } from '../queue/job';
import type { RememberedRefusals } from '../store/refusals';
import type { AnswerReply, ReplyRecord } from './answer-reply';
import { EditReply } from './edit-reply';
import { findOwnMessages, mergeFound } from './own-messages';
import type { SlackWrites } from './slack-reply-api';
import { StreamReply, type StreamReplyOptions } from './stream-reply';
import { replyBudget, type WriteBudget } from './write-budget';

/** How answers are shown: `SLACK_STREAMING`. */
export type StreamingMode = 'auto' | 'native' | 'edit';

/** The conversation a reply goes to: the job's (`ts` is the asking message's). */
export type ReplyTarget = Pick<
  AnswerJob,
  'eventId' | 'teamId' | 'channel' | 'threadTs' | 'ts' | 'user' | 'userTeamId' | 'isDm' | 'botUserId'
>;

/** What the use case says about earlier attempts at the same event. */
export interface ReplyResume {
  /** Messages an earlier attempt recorded. */
  previous?: ReplyRecord | undefined;
  /**
   * An earlier attempt may have posted without recording it (its claim save failed): look for
   * its messages in the thread before posting anything.
   */
  lookInThread: boolean;
  /** When this event was first claimed, else its record first received (epoch ms): see own-messages.ts. */
  ownSince?: number | undefined;
}

/** Per-answer settings the adapters need from the use case. */
export interface ReplyContext {
  timeLeftMs: () => number;
  /** As `ReplyAdapterOptions.maxBudgetWaitMs` (answer-reply.ts). */
  maxBudgetWaitMs?: number;
  onMessages: (record: ReplyRecord) => Promise<void>;
  logger: Logger;
}

/** Opens the reply for one answer: the use case's single way in to the adapters. */
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
 * (a stream left open is stopped first: nothing stays "streaming", nothing is posted twice).
 * Otherwise `edit` edits a placeholder, and `native` and `auto` stream: `auto` unless the workspace
 * is remembered as refusing it, taking the edit path for an answer whose stream Slack refuses or
 * cannot start within a second (the workspace's streams are busy).
 */
export function replyOpener(options: {
  slack: SlackWrites;
  mode: StreamingMode;
  availability: RememberedRefusals;
  editIntervalMs: number;
  appendIntervalMs: number;
  texts: ReplyTexts;
  /** The write budget shared by all replies of a workspace; default: none (per-reply pacing only). */
  budget?: WriteBudget;
}): ReplyOpener {
  const { slack, mode, availability, texts, budget } = options;
  return {
    async open(target, resume, context) {
      const { logger } = context;
      const { channel, threadTs, eventId, ts: askedTs, botUserId } = target;
      const common = {
        ...context,
        slack,
        channel,
        threadTs,
        eventId,
        askedTs,
        botUserId,
        ownSince: resume.ownSince,
        budget: budget && replyBudget(budget, target.teamId, channel),
      };
      const edit: StreamReplyOptions['edit'] = (messageTs, o = {}) =>
        new EditReply({
          ...common,
          ...o,
          messageTs,
          placeholder: o.placeholder ? texts.placeholder : undefined,
          intervalMs: options.editIntervalMs,
        });

      let earlier = resume.previous;
      if (resume.lookInThread) {
        const merged = mergeFound(eventId, earlier, await findOwnMessages(common), resume.ownSince);
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
        // A claim saved before `streaming` was recorded: any message of a native reply may stream.
        const streaming = earlier.streaming ?? (earlier.path === 'native' ? earlier.messageTs : []);
        return edit(earlier.messageTs, { placeholder: true, streaming });
      }

      const off =
        mode === 'auto' &&
        (await availability.isOff(target.teamId).catch((error) => {
          logger.warn('Momento unavailable; trying native streaming', { error: error as Error });
          return false;
        }));
      if (mode === 'edit' || off) return edit([], { placeholder: true });
      return new StreamReply({
        ...common,
        ...(target.isDm
          ? {}
          : { recipient: { userId: target.user, teamId: target.userTeamId ?? target.teamId } }),
        status: texts.status,
        intervalMs: options.appendIntervalMs,
        edit,
        fallback: mode === 'auto',
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
