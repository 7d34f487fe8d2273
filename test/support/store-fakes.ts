import { StoreUnavailableError } from '../../lib/errors';
import type { GovernanceStore } from '../../lib/governance/governance-store';
import type { Turn } from '../../lib/llm/prompt';
import type { Claim, ClaimState, EventClaims } from '../../lib/store/event-claims';
import type { RememberedRefusals } from '../../lib/store/refusals';
import type { ThreadHistory, ThreadKey } from '../../lib/store/thread-history';

/**
 * In-memory fakes of the Momento-backed stores (lib/store, and the rollout guards' store): our own
 * interfaces, never Momento's SDK. `down` makes every call fail as the adapters do when Momento
 * cannot be reached ({@link StoreUnavailableError}).
 */

function unavailable(what: string): StoreUnavailableError {
  return new StoreUnavailableError(`Momento ${what} failed (the fake store is down)`);
}

/** {@link EventClaims} in a Map; `down` makes every call fail as Momento does when unreachable. */
export function memoryClaims(initial: Record<string, ClaimState> = {}) {
  const states = new Map(Object.entries(initial).map(([id, s]) => [id, structuredClone(s)]));
  const saves: Array<{ eventId: string; state: ClaimState }> = [];
  const fake = {
    down: false,
    /** Every save, in order. */
    saves,
    /** The states saved for `eventId`, in order. */
    savedFor: (eventId: string) => saves.filter((s) => s.eventId === eventId).map((s) => s.state),
    state: (eventId: string) => states.get(eventId),
    claims: {
      async claim(eventId, claimedAt = Date.now()): Promise<Claim> {
        if (fake.down) throw unavailable('setIfAbsent');
        const existing = states.get(eventId);
        if (existing) return { fresh: false, state: structuredClone(existing) };
        states.set(eventId, { status: 'answering', messageTs: [], claimedAt });
        return { fresh: true };
      },
      async save(eventId, state) {
        if (fake.down) throw unavailable('set');
        states.set(eventId, structuredClone(state));
        saves.push({ eventId, state: structuredClone(state) });
      },
    } satisfies EventClaims,
  };
  return fake;
}

/** {@link ThreadHistory} in a Map; `down` makes every call fail. */
export function memoryHistory(initial: Array<[ThreadKey, Turn[]]> = []) {
  const key = (t: ThreadKey) => `${t.teamId}:${t.channel}:${t.threadTs}`;
  const threads = new Map(initial.map(([t, turns]) => [key(t), [...turns]]));
  const fake = {
    down: false,
    turns: (thread: ThreadKey) => threads.get(key(thread)) ?? [],
    history: {
      async load(thread) {
        if (fake.down) throw unavailable('listFetch');
        return [...(threads.get(key(thread)) ?? [])];
      },
      async append(thread, turns) {
        if (fake.down) throw unavailable('listConcatenateBack');
        threads.set(key(thread), [...(threads.get(key(thread)) ?? []), ...turns]);
      },
    } satisfies ThreadHistory,
  };
  return fake;
}

/** {@link RememberedRefusals} in a Map: the workspaces remembered as refusing native streaming. */
export function memoryStreamingAvailability(off: string[] = []) {
  const refusals = new Map(off.map((teamId) => [teamId, 'feature_not_enabled']));
  const fake = {
    down: false,
    /** Workspace → the Slack error that turned streaming off there. */
    refusals,
    availability: {
      async isOff(teamId) {
        if (fake.down) throw unavailable('get');
        return refusals.has(teamId);
      },
      async markOff(teamId, slackError) {
        if (fake.down) throw unavailable('set');
        refusals.set(teamId, slackError ?? 'refused');
      },
    } satisfies RememberedRefusals,
  };
  return fake;
}

/**
 * {@link GovernanceStore} in a Map: marks and counters as Momento keeps them (`setIfAbsent`,
 * `increment`), without their expiry (a unit test lives within one day).
 */
export function memoryGovernanceStore() {
  const marks = new Set<string>();
  const counters = new Map<string, number>();
  const fake = {
    down: false,
    marks,
    counters,
    store: {
      async markOnce(key) {
        if (fake.down) throw unavailable('setIfAbsent');
        if (marks.has(key)) return false;
        marks.add(key);
        return true;
      },
      async add(key, amount) {
        if (fake.down) throw unavailable('increment');
        const value = (counters.get(key) ?? 0) + amount;
        counters.set(key, value);
        return value;
      },
    } satisfies GovernanceStore,
  };
  return fake;
}
