import type { SlackCallError } from '../errors';

/**
 * Where a native stream reply stands. One state at a time, changed only by {@link nextStreamState}:
 * - `streaming`: the answer is written into stream messages (none yet, or the open ones);
 * - `uncertain`: what Slack shows may differ from what we sent (a stream's start or an append lost
 *   its answer, or a retried model call started over): streaming writes stop, and the final write
 *   ends the streams and rewrites them exactly on the edit path;
 * - `moved`: the answer continues on the edit path (streaming unavailable or busy here, nothing
 *   written before the answer was complete, or a repair): every call is the edit path's;
 * - `refused`: Slack refused to show anything here (native only, or the conversation refuses the
 *   app): the model is stopped, the final write reports the refusal;
 * - `stopped`: the user pressed Stop: nothing more is written.
 */
export type StreamState<Edit> =
  | { kind: 'streaming' }
  | { kind: 'uncertain'; why: UncertainWhy }
  | { kind: 'moved'; to: Edit; why: MoveWhy }
  | { kind: 'refused'; error: SlackCallError }
  | { kind: 'stopped' };

type UncertainWhy = 'lost_start' | 'diverged';
/** Why the answer continues on the edit path. */
export type MoveWhy = 'unavailable' | 'busy' | 'complete_before_first_write' | 'no_status' | 'repair';

/** What can happen to a stream reply. */
export type StreamEvent<Edit> =
  | { type: 'uncertain'; why: UncertainWhy }
  | { type: 'start_found' }
  | { type: 'move'; to: Edit; why: MoveWhy }
  | { type: 'refuse'; error: SlackCallError }
  | { type: 'user_stopped' };

/**
 * The state after `event`. `stopped`, `refused` and `moved` are final: nothing undoes the user's
 * Stop, a refusal, or the edit path taking over. An `uncertain` reply only goes back to streaming
 * when its lost start is found, and moves to the edit path only to be repaired.
 */
export function nextStreamState<Edit>(state: StreamState<Edit>, event: StreamEvent<Edit>): StreamState<Edit> {
  if (state.kind === 'stopped' || state.kind === 'refused' || state.kind === 'moved') return state;
  switch (event.type) {
    case 'user_stopped':
      return { kind: 'stopped' };
    case 'refuse':
      return { kind: 'refused', error: event.error };
    case 'uncertain':
      // A lost start that is found again goes on streaming; any other doubt stays until the repair.
      return state.kind === 'uncertain' && state.why !== 'lost_start'
        ? state
        : { kind: 'uncertain', why: event.why };
    case 'start_found':
      return state.kind === 'uncertain' && state.why === 'lost_start' ? { kind: 'streaming' } : state;
    case 'move':
      if (state.kind === 'uncertain' && event.why !== 'repair') return state;
      return { kind: 'moved', to: event.to, why: event.why };
  }
}
