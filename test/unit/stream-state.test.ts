import { SlackCallError } from '../../lib/errors';
import { nextStreamState, type StreamEvent, type StreamState } from '../../lib/reply/stream-state';

type State = StreamState<string>;
const refused = new SlackCallError('chat.startStream', { slackError: 'not_in_channel', retryable: false });
const move = (why: Extract<StreamEvent<string>, { type: 'move' }>['why']): StreamEvent<string> => ({
  type: 'move',
  to: 'edit-reply',
  why,
});
const run = (events: StreamEvent<string>[], from: State = { kind: 'streaming' }) =>
  events.reduce(nextStreamState<string>, from);

describe('nextStreamState: where a native stream reply stands', () => {
  it('moves a streaming reply to the edit path, which then keeps it', () => {
    // Act
    const state = run([move('busy'), { type: 'user_stopped' }, { type: 'uncertain', why: 'diverged' }]);
    // Assess
    expect(state).toEqual({ kind: 'moved', to: 'edit-reply', why: 'busy' });
  });

  it('keeps the user’s Stop and a refusal final', () => {
    // Act / Assess
    expect(run([{ type: 'user_stopped' }, move('repair'), { type: 'refuse', error: refused }])).toEqual({
      kind: 'stopped',
    });
    expect(run([{ type: 'refuse', error: refused }, { type: 'user_stopped' }, move('repair')])).toEqual({
      kind: 'refused',
      error: refused,
    });
  });

  it('goes back to streaming when a lost start is found, but not after the text diverged', () => {
    // Act / Assess
    expect(run([{ type: 'uncertain', why: 'lost_start' }, { type: 'start_found' }])).toEqual({
      kind: 'streaming',
    });
    expect(run([{ type: 'uncertain', why: 'diverged' }, { type: 'start_found' }])).toEqual({
      kind: 'uncertain',
      why: 'diverged',
    });
  });

  it('leaves an uncertain reply only for its repair on the edit path (or Stop)', () => {
    // Act / Assess
    const uncertain: State = { kind: 'uncertain', why: 'diverged' };
    expect(run([move('busy')], uncertain)).toEqual(uncertain);
    expect(run([move('repair')], uncertain)).toEqual({ kind: 'moved', to: 'edit-reply', why: 'repair' });
    expect(run([{ type: 'user_stopped' }], uncertain)).toEqual({ kind: 'stopped' });
  });
});
