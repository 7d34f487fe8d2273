import { splitMessage } from '../../lib/slack/message-split';

describe('splitMessage', () => {
  const paragraph = (i: number) => `Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(8).trim()}`;

  it('keeps a short text in one message', () => {
    expect(splitMessage('hello', 100)).toEqual(['hello']);
  });

  it('splits at paragraph breaks, within the limit, losing no line', () => {
    // Prepare
    const text = Array.from({ length: 40 }, (_, i) => paragraph(i)).join('\n\n');
    // Act
    const chunks = splitMessage(text, 1000);
    // Assess
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(1000);
    expect(chunks.join('\n\n')).toBe(text);
    for (const c of chunks) expect(c.startsWith('Paragraph')).toBe(true);
  });

  it('closes and reopens a code block cut in two', () => {
    const code = Array.from({ length: 80 }, (_, i) => `const line${i} = ${i}; // some code here`).join('\n');
    const text = `Intro\n\n\`\`\`\n${code}\n\`\`\`\n\nOutro`;
    const chunks = splitMessage(text, 1000);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(1000);
      expect((c.match(/```/g) ?? []).length % 2).toBe(0); // every message's fences balance
    }
    const lines = chunks
      .join('\n')
      .split('\n')
      .filter((l) => l !== '```');
    expect(lines).toEqual(text.split('\n').filter((l) => l !== '```'));
  });

  it('breaks a single over-long line at spaces', () => {
    const text = 'word '.repeat(1000).trim();
    const chunks = splitMessage(text, 500);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(500);
    expect(chunks.join(' ')).toBe(text);
  });

  it('stays within the limit when a paragraph cut leaves lines that still do not fit', () => {
    const text = `a\nb\nc\n\n${'X'.repeat(80)}\n${'Y'.repeat(20)}`;
    const chunks = splitMessage(text, 100);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(100);
    expect(
      chunks
        .join('\n')
        .split('\n')
        .filter((l) => l !== ''),
    ).toEqual(text.split('\n').filter((l) => l !== ''));
  });

  it('never cuts an emoji in half, and keeps every character of a line without spaces', () => {
    const text = '😀'.repeat(80);
    const chunks = splitMessage(text, 101);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(101);
      expect(c).toMatch(/^(?:\ud83d\ude00)+$/);
    }
    expect(chunks.join('')).toBe(text);
  });
  it('never cuts inside an inline format or a link when a space outside one is in reach', () => {
    // Prepare: the only spaces near the limit are inside bold text and a link label.
    const text = `${'word '.repeat(15)}**bold text that runs on** and [a long link label](https://example.com) end`;
    // Act
    const chunks = splitMessage(text, 110);
    // Assess
    for (const c of chunks) {
      expect((c.match(/\*\*/g) ?? []).length % 2).toBe(0);
      expect(c.lastIndexOf('[')).toBeLessThanOrEqual(c.lastIndexOf(']'));
    }
    expect(chunks.join(' ')).toBe(text);
  });

  it('reopens a cut code block with its language', () => {
    const code = Array.from({ length: 60 }, (_, i) => `x${i} = ${i}`).join('\n');
    const chunks = splitMessage(`\`\`\`python\n${code}\n\`\`\``, 300);
    for (const c of chunks.slice(1)) expect(c.startsWith('```python\n')).toBe(true);
  });
});
