import { toMrkdwn } from '../../lib/slack/mrkdwn';

describe('toMrkdwn', () => {
  it('renders Markdown as Slack mrkdwn', () => {
    const out = toMrkdwn('# Title\n\n**bold** and [link](https://example.com)\n\n- a\n- b');
    expect(out).toContain('*Title*');
    expect(out).toContain('*bold*');
    expect(out).toContain('<https://example.com|link>');
    expect(out).toMatch(/•\s+a/);
    expect(out).not.toMatch(/\n$/);
  });

  it('returns an empty string for blank input', () => {
    expect(toMrkdwn('  \n')).toBe('');
  });
});
