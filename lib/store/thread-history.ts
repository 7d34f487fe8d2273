import { CacheListFetch, CollectionTtl } from '@gomomento/sdk';
import type { Turn } from '../llm/prompt';
import type { MomentoCache } from './momento-cache';

/** A thread's memory: the questions and answers so far, oldest first. */
export interface ThreadHistory {
  /** @throws {StoreUnavailableError} */
  load(thread: ThreadKey): Promise<Turn[]>;
  /** @throws {StoreUnavailableError} */
  append(thread: ThreadKey, turns: Turn[]): Promise<void>;
}

/** Identifies a Slack thread across workspaces. */
export interface ThreadKey {
  teamId: string;
  channel: string;
  threadTs: string;
}

/** The list never grows past this many turns; the prompt trims further by tokens. */
export const MAX_TURNS = 100;

/**
 * Thread history as one Momento list per thread: `listConcatenateBack` with
 * `truncateFrontToSize` drops the oldest turns, and a collection TTL refreshed on every write
 * keeps a thread for `ttlSeconds` after its last message
 * (https://docs.momentohq.com/cache/develop/api-reference/list-collections).
 */
export function momentoThreadHistory(cache: MomentoCache, ttlSeconds: number): ThreadHistory {
  const key = (t: ThreadKey) => `thread:${t.teamId}:${t.channel}:${t.threadTs}`;
  return {
    async load(thread) {
      const response = await cache.run('listFetch', (name) => cache.client.listFetch(name, key(thread)));
      if (!(response instanceof CacheListFetch.Hit)) return [];
      return response.valueListString().flatMap(parseTurn);
    },
    async append(thread, turns) {
      await cache.run('listConcatenateBack', (name) =>
        cache.client.listConcatenateBack(
          name,
          key(thread),
          turns.map((t) => JSON.stringify(t)),
          { ttl: CollectionTtl.of(ttlSeconds).withRefreshTtlOnUpdates(), truncateFrontToSize: MAX_TURNS },
        ),
      );
    },
  };
}

/** Reads one stored turn; anything unreadable is skipped rather than breaking the thread. */
function parseTurn(value: string): Turn[] {
  try {
    const t = JSON.parse(value) as Partial<Turn>;
    if ((t.role !== 'user' && t.role !== 'assistant') || typeof t.content !== 'string') return [];
    return [
      {
        role: t.role,
        content: t.content,
        ...(typeof t.ts === 'string' ? { ts: t.ts } : {}),
        ...(t.thread === true ? { thread: true } : {}),
      },
    ];
  } catch {
    return [];
  }
}
