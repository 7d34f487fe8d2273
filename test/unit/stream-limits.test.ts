import { cut } from '../../lib/reply/stream-limits';

describe('cut: the piece of a stream that fits a message', () => {
  it('keeps a text that fits', () => {
    expect(cut('short', 10)).toBe('short');
  });

  it('cuts after a line break in the second half, never past the limit', () => {
    // Prepare: a break right at the limit must not make the piece one longer than the limit.
    const text = `${'a'.repeat(7)}\n${'b'.repeat(10)}`;
    // Act
    const piece = cut(text, 7);
    // Assess
    expect(piece.length).toBeLessThanOrEqual(7);
    expect(cut(`${'a'.repeat(6)}\nbbbb`, 9)).toBe(`${'a'.repeat(6)}\n`);
  });

  it('never splits an emoji (a surrogate pair)', () => {
    // Prepare: the limit falls between the two halves of 🚀.
    const text = `abcd🚀efgh`;
    // Act
    const piece = cut(text, 5);
    // Assess
    expect(piece).toBe('abcd');
    expect(text.startsWith(piece)).toBe(true);
  });
});
