import { mergeFound } from '../../lib/reply/open-reply';

const tag = (chunk: number, eventId = 'Ev1') => ({ eventId, chunk });

describe('mergeFound: the messages an earlier attempt left', () => {
  it('completes what the claim recorded with the tagged continuations found in the thread', () => {
    // Act
    const merged = mergeFound('Ev1', { path: 'edit', messageTs: ['1.1'] }, [
      { ts: '1.1', tag: tag(0) },
      { ts: '1.2', tag: tag(1) },
      { ts: '1.3', tag: tag(2) },
    ]);
    // Assess
    expect(merged).toEqual({ path: 'edit', messageTs: ['1.1', '1.2', '1.3'] });
  });

  it('ignores other events’ messages and puts a second copy of a chunk last, to be deleted', () => {
    // Act
    const merged = mergeFound('Ev1', undefined, [
      { ts: '1.1', tag: tag(0) },
      { ts: '1.2', tag: tag(0, 'Ev2') },
      { ts: '1.3', tag: tag(0) },
      { ts: '1.4', tag: tag(1) },
    ]);
    // Assess
    expect(merged.messageTs).toEqual(['1.1', '1.4', '1.3']);
  });

  it('adopts untagged messages of the bot (streams never stopped) as native, after the rest', () => {
    // Act
    const merged = mergeFound('Ev1', undefined, [{ ts: '1.5' }]);
    // Assess
    expect(merged).toEqual({ path: 'native', messageTs: ['1.5'] });
  });
});
