import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { EXACT_COUNT_CHARS, slicedTokenCounter } from '../../lib/llm/prompt';
import { cjkText } from '../support/cjk-text';

const english =
  'The deploy failed at 09:14 because the config map was missing a key; we rolled back. '.repeat(60);
const code = 'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n\n'.repeat(80);
const mixed = `${cjkText(700)} then English words follow here ${cjkText(900, 7)} 🚀👩‍💻 ${english.slice(0, 900)}`;

describe('slicedTokenCounter', () => {
  let count: ReturnType<typeof slicedTokenCounter>;
  beforeEach(() => {
    count = slicedTokenCounter(countTokens);
  });

  it.each([
    ['CJK without spaces', cjkText(5_000)],
    ['English prose', english],
    ['source code', code],
    ['mixed scripts and emoji', mixed],
  ])('never counts fewer tokens than the whole text has, and at most 2%% more: %s', (_name, text) => {
    // Act
    const sliced = count(text);
    const whole = countTokens(text);
    // Assess
    expect(sliced).toBeGreaterThanOrEqual(whole);
    expect(sliced).toBeLessThanOrEqual(Math.ceil(whole * 1.02));
  });

  it('counts spaced text exactly: slices are cut before a space', () => {
    expect(count(english)).toBe(countTokens(english));
  });

  it('stops once past the limit', () => {
    // Act
    const partial = count(cjkText(20_000), 1_000);
    // Assess
    expect(partial).toBeGreaterThan(1_000);
    expect(partial).toBeLessThan(2_500);
  });

  it('counts what lies past its exact window as UTF-8 bytes, an upper bound, across texts', () => {
    // Prepare
    const text = cjkText(EXACT_COUNT_CHARS + 3_000);
    // Act
    const counted = count(text);
    const next = count('more words here');
    // Assess: the exact part plus 3 bytes per CJK character beyond it; then bytes only.
    expect(counted).toBe(slicedTokenCounter(countTokens)(text.slice(0, EXACT_COUNT_CHARS)) + 9_000);
    expect(counted).toBeGreaterThanOrEqual(countTokens(text));
    expect(next).toBe(15);
  });

  it('keeps a surrogate pair in one slice', () => {
    // Prepare: emoji only, so every cut falls between pairs or would split one.
    const emoji = '🚀'.repeat(1_000);
    // Act / Assess
    expect(count(emoji)).toBeGreaterThanOrEqual(countTokens(emoji));
  });
});
