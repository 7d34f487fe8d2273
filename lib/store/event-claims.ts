import { CacheGet, CacheSetIfAbsent } from '@gomomento/sdk';
import type { MomentoCache } from './momento-cache';

/** Where an event's answer stands. */
export interface ClaimState {
  status: 'answering' | 'done';
  /** The reply's Slack messages, so a redelivery edits them instead of posting again. */
  messageTs: string[];
  /** How those messages were written: a native stream left open by a crash is stopped first. */
  path?: 'native' | 'edit';
  /** Those of the messages that may still be streaming (see `ReplyRecord.streaming`). */
  streaming?: string[];
  /**
   * The last attempt handed the event back to the queue (to wait for Slack, or for the model) with
   * nothing in doubt and this state saved last: it holds every message of the reply, so the next
   * attempt need not search the thread for unrecorded ones.
   */
  handedBack?: boolean;

  /**
   * When this event was first claimed (epoch ms). Its records are answered one at a time, after the
   * thread's earlier questions, so a bot message Slack created before this moment is another
   * question's: a redelivery never adopts it, whatever its record's receive time says.
   */
  claimedAt?: number;

  /** The allowlist and quotas let this event through: a redelivery does not check them again. */
  admitted?: boolean;
  /**
   * The finished answer, saved before it is written to Slack: a redelivery after a failed final
   * write shows this text again instead of asking the model for a different one.
   */
  final?: {
    markdown: string;
    notice?: string;
    /** Whether it is an answer to remember in the thread and to show with feedback buttons. */
    remember?: boolean;
    /** The lookups the answer made (tool traces): remembered with it, whichever attempt writes it. */
    trace?: string[];
  };
}

/** The outcome of claiming an event. */
export type Claim = { fresh: true } | { fresh: false; state: ClaimState };

/**
 * Exactly-once bookkeeping per Slack event. SQS is at-least-once and a Slack retry can arrive
 * after FIFO's five-minute deduplication window, so the worker claims `event_id` before answering.
 */
export interface EventClaims {
  /**
   * Takes the claim, recording `claimedAt` (epoch ms, default now) in a fresh one.
   * @throws {StoreUnavailableError}
   */
  claim(eventId: string, claimedAt?: number): Promise<Claim>;
  /** @throws {StoreUnavailableError} */
  save(eventId: string, state: ClaimState): Promise<void>;
}

/** Slack retries for about 5 minutes and SQS keeps a message for days; a day covers both in practice. */
const CLAIM_TTL_SECONDS = 24 * 60 * 60;

/** Claims stored in Momento: `setIfAbsent` takes the claim atomically, `set` records progress. */
export function momentoEventClaims(cache: MomentoCache): EventClaims {
  const key = (eventId: string) => `event:${eventId}`;
  return {
    async claim(eventId, claimedAt = Date.now()) {
      const initial: ClaimState = { status: 'answering', messageTs: [], claimedAt };
      const taken = await cache.run('setIfAbsent', (name) =>
        cache.client.setIfAbsent(name, key(eventId), JSON.stringify(initial), { ttl: CLAIM_TTL_SECONDS }),
      );
      if (taken instanceof CacheSetIfAbsent.Stored) return { fresh: true };
      const existing = await cache.run('get', (name) => cache.client.get(name, key(eventId)));
      // Expired between the two calls: treat as ours.
      if (!(existing instanceof CacheGet.Hit)) return { fresh: true };
      return { fresh: false, state: parseState(existing.valueString()) };
    },
    async save(eventId, state) {
      await cache.run('set', (name) =>
        cache.client.set(name, key(eventId), JSON.stringify(state), { ttl: CLAIM_TTL_SECONDS }),
      );
    },
  };
}

function parseState(value: string): ClaimState {
  try {
    const s = JSON.parse(value) as Partial<ClaimState>;
    return {
      status: s.status === 'done' ? 'done' : 'answering',
      messageTs: Array.isArray(s.messageTs) ? s.messageTs.filter((t) => typeof t === 'string') : [],
      ...(s.path === 'native' || s.path === 'edit' ? { path: s.path } : {}),
      ...(Array.isArray(s.streaming) ? { streaming: s.streaming.filter((t) => typeof t === 'string') } : {}),
      ...(typeof s.claimedAt === 'number' ? { claimedAt: s.claimedAt } : {}),
      ...(s.admitted === true ? { admitted: true } : {}),
      ...(s.handedBack === true ? { handedBack: true } : {}),
      ...(typeof s.final?.markdown === 'string'
        ? {
            final: {
              markdown: s.final.markdown,
              ...(typeof s.final.notice === 'string' ? { notice: s.final.notice } : {}),
              ...(typeof s.final.remember === 'boolean' ? { remember: s.final.remember } : {}),
              ...(Array.isArray(s.final.trace)
                ? { trace: s.final.trace.filter((t): t is string => typeof t === 'string') }
                : {}),
            },
          }
        : {}),
    };
  } catch {
    return { status: 'answering', messageTs: [] };
  }
}
