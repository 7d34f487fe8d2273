import { isOwnMessage, mergeFound } from '../../lib/reply/own-messages';
import { tsMillis } from '../../lib/slack/slack-ts';

const tag = (chunk: number, eventId = 'Ev1') => ({ eventId, chunk });
/** The record was first received at 1,700,000,100.000 s. */
const OWN_SINCE = 1_700_000_100_000;

describe('isOwnMessage: only this event’s messages are ever adopted', () => {
  it('takes a tagged message by its tag, whenever it was made', () => {
    // Act / Assess
    expect(isOwnMessage({ ts: '1700000000.000100', tag: tag(0) }, 'Ev1', OWN_SINCE)).toBe(true);
    expect(isOwnMessage({ ts: '1700000200.000100', tag: tag(0, 'Ev2') }, 'Ev1', OWN_SINCE)).toBe(false);
  });

  it('takes an untagged one (a stream never stopped) only when made since the record was first received', () => {
    // Act / Assess: an earlier question's stream, still untagged, written after this question was asked.
    expect(isOwnMessage({ ts: '1700000099.999000' }, 'Ev1', OWN_SINCE)).toBe(false);
    expect(isOwnMessage({ ts: '1700000100.000100' }, 'Ev1', OWN_SINCE)).toBe(true);
    expect(isOwnMessage({ ts: '1700000200.000100' }, 'Ev1', undefined)).toBe(false);
  });

  it('reads a ts to the millisecond without losing digits', () => {
    expect(tsMillis('1700000100.123456')).toBe(1_700_000_100_123);
  });
});

describe('mergeFound: the messages an earlier attempt left', () => {
  it('completes what the claim recorded with the tagged continuations found in the thread', () => {
    // Act
    const merged = mergeFound(
      'Ev1',
      { path: 'edit', messageTs: ['1.1'] },
      [
        { ts: '1.1', tag: tag(0) },
        { ts: '1.2', tag: tag(1) },
        { ts: '1.3', tag: tag(2) },
      ],
      OWN_SINCE,
    );
    // Assess
    expect(merged).toEqual({ path: 'edit', messageTs: ['1.1', '1.2', '1.3'] });
  });

  it('ignores other events’ messages and puts a second copy of a chunk last, to be deleted', () => {
    // Act
    const merged = mergeFound(
      'Ev1',
      undefined,
      [
        { ts: '1.1', tag: tag(0) },
        { ts: '1.2', tag: tag(0, 'Ev2') },
        { ts: '1.3', tag: tag(0) },
        { ts: '1.4', tag: tag(1) },
      ],
      OWN_SINCE,
    );
    // Assess
    expect(merged.messageTs).toEqual(['1.1', '1.4', '1.3']);
  });

  it('adopts an untagged stream of its own as native and still streaming; never an earlier question’s', () => {
    // Act
    const merged = mergeFound(
      'Ev1',
      undefined,
      [{ ts: '1700000050.000100' }, { ts: '1700000150.000100' }],
      OWN_SINCE,
    );
    // Assess
    expect(merged).toEqual({
      path: 'native',
      messageTs: ['1700000150.000100'],
      streaming: ['1700000150.000100'],
    });
  });
});
