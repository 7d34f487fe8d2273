import { fitInMessage, STREAM_HOLD_CHARS, STREAM_MESSAGE_CHARS } from '../../lib/reply/stream-split';

/** "w0 w1 w2 …": one long line of words, as a model writes a long paragraph. */
const words = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `w${from + i}`).join(' ');

describe('fitInMessage: what one stream message takes of a growing answer', () => {
  it('takes all that is new while the message is far from full', () => {
    // Act
    const fit = fitInMessage('Hello', ' world', false);
    // Assess
    expect(fit).toEqual({ piece: ' world', consumed: 6, full: false, nextPrefix: '' });
  });

  it('near the end of a message, takes only up to where it could end (never inside a word)', () => {
    // Prepare: a message almost full, and a word arriving in two pieces.
    const shown = 'x '.repeat((STREAM_MESSAGE_CHARS - STREAM_HOLD_CHARS + 100) / 2);
    // Act
    const fit = fitInMessage(shown, 'alpha bet', false);
    // Assess
    expect(fit.piece).toBe('alpha ');
    expect(fit.full).toBe(false);
  });

  it('cuts a full message between words, and the next one starts with the next word', () => {
    // Prepare: a 15,000-character answer of one paragraph, streamed into one message.
    const answer = words(0, 2_500);
    // Act
    const fit = fitInMessage('', answer, true);
    // Assess
    expect(fit.full).toBe(true);
    expect(fit.piece.length).toBeLessThanOrEqual(STREAM_MESSAGE_CHARS);
    expect(fit.piece).toMatch(/ w\d+ ?$/);
    expect(answer.slice(fit.consumed)).toMatch(/^w\d+ /);
    expect(`${fit.piece}${answer.slice(fit.consumed)}`).toBe(answer);
  });

  it('ends a full message where it was held rather than inside a link that does not fit', () => {
    // Prepare: a message held at a space near its end; a link arrives whose text has a space.
    const shown = 'word '.repeat(Math.floor((STREAM_MESSAGE_CHARS - 10) / 5));
    const pending = '[link 2415](https://example.com/a-long-path/2415) and more words after it';
    // Act
    const fit = fitInMessage(shown, pending, false);
    // Assess: nothing of the link in this message; the next one starts with the whole link.
    expect(fit.full).toBe(true);
    expect(fit.piece).toBe('');
    expect(pending.slice(fit.consumed)).toMatch(/^\[link 2415\]\(https:/);
  });

  it('prefers a paragraph break near the end of the message', () => {
    // Prepare
    const first = `${'a '.repeat(5_000)}\n\n`;
    const answer = `${first}${'b '.repeat(3_000)}`;
    // Act
    const fit = fitInMessage('', answer, true);
    // Assess
    expect(fit.piece).toBe(first);
    expect(answer.slice(fit.consumed)).toMatch(/^b /);
  });

  it('closes a code block cut in two and reopens it, language kept, in the next message', () => {
    // Prepare
    const code = Array.from({ length: 800 }, (_, i) => `const line${i} = ${i};`).join('\n');
    const answer = `Here:\n\n\`\`\`ts\n${code}\n\`\`\`\n`;
    // Act
    const fit = fitInMessage('', answer, true);
    // Assess
    expect(fit.full).toBe(true);
    expect(fit.piece.endsWith('\n```')).toBe(true);
    expect(fit.nextPrefix).toBe('```ts\n');
    expect(answer.slice(fit.consumed)).toMatch(/^const line\d+ = \d+;/);
  });
});
