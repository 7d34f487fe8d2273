import { neutraliseMentions, stablePrefix } from '../../lib/slack/mentions';

describe('neutraliseMentions', () => {
  it.each([
    ['<!channel> now', '@\u2060channel now'],
    ['<!here|here> and <!everyone>', '@\u2060here and @\u2060everyone'],
    ['ask <@U123ABC>', 'ask @U123ABC'],
    ['ask <@W123|alice>', 'ask @alice'],
    ['ping <!subteam^S0ENG|@eng-team>', 'ping @eng-team'],
    ['ping <!subteam^S0ENG>', 'ping @S0ENG'],
    ['nested <@U1|<!here>>', 'nested @\u2060here'],
    ['nested <!subteam^S1|<!channel>>', 'nested @\u2060channel'],
    ['nested <@U1|<@U2>>', 'nested @U2'],
    ['deeper <@U1|<@U2|<!here>>>', 'deeper @\u2060here'],
  ])('makes %j inert', (input, expected) => {
    const out = neutraliseMentions(input);
    expect(out).toBe(expected);
    expect(out).not.toMatch(/<[@!]/);
  });

  it.each([
    '<https://example.com|docs>',
    '<#C0GENERAL>',
    '<!date^1392734382^{date}|Feb 18, 2014>',
    'a < b and c > d',
    'no mentions at all',
  ])('leaves %j as it is', (input) => {
    expect(neutraliseMentions(input)).toBe(input);
  });
});

describe('stablePrefix', () => {
  it('holds back an unclosed tag that may still become a mention', () => {
    expect(stablePrefix('hello <!chan')).toBe('hello ');
    expect(stablePrefix('hello <!channel> and <@U1')).toBe('hello <!channel> and ');
    expect(stablePrefix('nested <@U1|<!here>')).toBe('nested ');
  });

  it('keeps text whose last tag is closed, or whose open bracket is too far back to be a mention', () => {
    expect(stablePrefix('hello <!channel>')).toBe('hello <!channel>');
    expect(stablePrefix(`a < b ${'x'.repeat(100)}`, 64)).toBe(`a < b ${'x'.repeat(100)}`);
  });

  it('never shows a mention split across two streamed pieces', () => {
    // Prepare: the text arrives in pieces that cut the mention.
    const pieces = ['Hi <', '!chan', 'nel> there <@U1|', '<!he', 're>', '> end'];
    let text = '';
    let shown = '';
    // Act
    for (const piece of pieces) {
      text += piece;
      const next = neutraliseMentions(stablePrefix(text));
      expect(next.startsWith(shown)).toBe(true);
      shown = next;
    }
    // Assess
    expect(shown).toBe('Hi @\u2060channel there @\u2060here end');
  });
});
