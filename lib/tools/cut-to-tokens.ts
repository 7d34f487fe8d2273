import type { TokenCounter } from '../llm/prompt';

/** Ends a tool result that was cut, so the model knows there was more. */
export const CUT_MARKER = '\n[… cut here: the rest did not fit.]';

/**
 * `text` cut to at most `maxTokens` tokens (by the model's tokenizer), with {@link CUT_MARKER}
 * when it was cut. A text of no more UTF-8 bytes than `maxTokens` always fits (o200k is byte-level:
 * a token covers at least one byte), so the tokenizer is loaded only for longer ones. The cut is
 * found by halving (some 15 counts), never inside a surrogate pair.
 */
export async function cutToTokens(
  text: string,
  maxTokens: number,
  countTokens: () => Promise<TokenCounter>,
): Promise<string> {
  if (Buffer.byteLength(text, 'utf8') <= maxTokens) return text;
  // A fresh counter per count: one counter counts a bounded number of characters exactly
  // (lib/llm/prompt.ts), and halving counts the same text many times.
  const within = async (chars: number, limit: number) =>
    (await countTokens())(text.slice(0, chars), limit) <= limit;
  if (await within(text.length, maxTokens)) return text;
  const budget = Math.max(0, maxTokens - (await countTokens())(CUT_MARKER));
  let low = 0;
  let high = Math.min(text.length, budget * 8);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (await within(mid, budget)) low = mid;
    else high = mid - 1;
  }
  let end = low;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return text.slice(0, end) + CUT_MARKER;
}
