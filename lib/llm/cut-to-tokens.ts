import type { TokenCounter } from './prompt';

/** Texts are cut in steps of this many characters, then to the character within the last step. */
const CUT_STEP_CHARS = 500;

/**
 * `text` cut to at most `maxTokens` tokens; `cut` says whether anything was dropped. Counts step
 * by step (each counted once, so the work is bounded by `maxTokens`, not the text's length), then
 * finds the cut within the last step by bisection. Counting in steps never counts fewer tokens
 * than the prefix has, so the result never overflows.
 */
export function truncateToTokens(
  text: string,
  maxTokens: number,
  count: TokenCounter,
): { text: string; cut: boolean; tokens: number } {
  let used = 0;
  for (let at = 0; at < text.length; at += CUT_STEP_CHARS) {
    const step = text.slice(at, at + CUT_STEP_CHARS);
    const cost = count(step, maxTokens - used);
    if (used + cost <= maxTokens) {
      used += cost;
      continue;
    }
    let low = 0;
    let lowCost = 0;
    let high = step.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const midCost = count(step.slice(0, mid), maxTokens - used);
      if (used + midCost <= maxTokens) {
        low = mid;
        lowCost = midCost;
      } else high = mid - 1;
    }
    return { text: text.slice(0, at + low), cut: true, tokens: used + lowCost };
  }
  return { text, cut: false, tokens: used };
}

/** Ends a text that was cut (a tool's result), so the model knows there was more. */
const CUT_MARKER = '\n[… cut here: the rest did not fit.]';

/**
 * `text` cut to at most `maxTokens` tokens with {@link CUT_MARKER} when anything was dropped. A
 * text of no more UTF-8 bytes than `maxTokens` always fits (o200k is byte-level: a token covers at
 * least one byte), so the tokenizer is loaded only for longer ones.
 */
export async function cutToTokens(
  text: string,
  maxTokens: number,
  countTokens: () => Promise<TokenCounter>,
): Promise<string> {
  if (Buffer.byteLength(text, 'utf8') <= maxTokens) return text;
  const count = await countTokens();
  if (!truncateToTokens(text, maxTokens, count).cut) return text;
  // A fresh counter: one counter counts a bounded number of characters exactly (prompt.ts).
  const counter = await countTokens();
  const room = Math.max(0, maxTokens - counter(CUT_MARKER));
  return truncateToTokens(text, room, counter).text + CUT_MARKER;
}
