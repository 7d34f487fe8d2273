import { messageGroupId, toSqsId } from '../../lib/queue/message-group-id';

const allowed = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

describe('messageGroupId', () => {
  it('joins team, channel and thread', () => {
    expect(messageGroupId('T1', 'C1', '1700000000.000100')).toBe('T1:C1:1700000000.000100');
  });

  it('keeps threads apart', () => {
    expect(messageGroupId('T1', 'C1', '1.1')).not.toBe(messageGroupId('T1', 'C1', '1.2'));
  });
});

describe('toSqsId', () => {
  it('leaves a valid id unchanged', () => {
    expect(toSqsId('Ev0123ABCD')).toBe('Ev0123ABCD');
  });

  it('replaces characters SQS does not allow and keeps distinct inputs distinct', () => {
    const a = toSqsId('team one:C1');
    const b = toSqsId('team_one:C1');
    expect(a).toMatch(allowed);
    expect(a).not.toBe(b);
  });

  it('shortens long ids to 128 characters, still distinct', () => {
    const a = toSqsId('x'.repeat(300));
    const b = toSqsId(`${'x'.repeat(299)}y`);
    expect(a).toHaveLength(128);
    expect(a).toMatch(allowed);
    expect(a).not.toBe(b);
  });
});
