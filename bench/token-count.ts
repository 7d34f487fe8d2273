import { performance } from 'node:perf_hooks';
import { buildPrompt, o200kTokenCounter, type Turn } from '../lib/llm/prompt';
import { cjkText } from '../test/support/cjk-text';
import { median } from './stats';

/** Timings for one size of CJK history. */
export interface TokenCountSample {
  chars: number;
  /** One text of `chars` characters counted whole by the sliced counter. */
  countMs: number;
  /** A history of `chars` characters in one turn, trimmed to the default 3,000-token budget. */
  trimOneTurnMs: number;
  /** The same characters in turns of 5,000, trimmed to 3,000 tokens. */
  trimTurnsMs: number;
  /** The same turns, trimmed to a 100,000-token budget (everything must be counted). */
  trimBigBudgetMs: number;
}

/** Median ms of `runs` calls, each on fresh text: the tokenizer caches what it has seen. */
async function timed(fn: (seed: number) => unknown | Promise<unknown>, runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn(i);
    samples.push(performance.now() - started);
  }
  return median(samples);
}
let nextSeed = 1;

/**
 * Issue 15.7: counting tokens of long runs without spaces (CJK) was quadratic in gpt-tokenizer
 * (0.27 / 1.3 / 3.8 / 12.2 s for 5k / 10k / 20k / 40k characters). Measures the sliced counter
 * and the history trimming it serves, on the same sizes and 100k.
 */
export async function measureTokenCounting(
  sizes = [5_000, 10_000, 20_000, 40_000, 100_000],
  runs = 5,
): Promise<TokenCountSample[]> {
  // A fresh counter per prompt, as the worker makes one per answer.
  const countTokens = () => o200kTokenCounter();
  (await countTokens())(cjkText(2_000, 0)); // load and warm the tokenizer
  const results: TokenCountSample[] = [];
  for (const chars of sizes) {
    const turnsOf = (seed: number): Turn[] => {
      const text = cjkText(chars, seed);
      const turns: Turn[] = [];
      for (let at = 0; at < chars; at += 5_000) {
        turns.push({ role: turns.length % 2 ? 'assistant' : 'user', content: text.slice(at, at + 5_000) });
      }
      return turns;
    };
    const trim = (history: Turn[], historyBudget: number) =>
      buildPrompt({ systemPrompt: 's', history, question: 'q', historyBudget, countTokens });
    // Inputs are made outside the timing: only counting and trimming are measured.
    const prepared = <T>(make: (seed: number) => T, use: (input: T) => unknown) => {
      const inputs = Array.from({ length: runs }, () => make(nextSeed++));
      let i = 0;
      return () => use(inputs[i++]!);
    };
    results.push({
      chars,
      countMs: await timed(
        prepared(
          (seed) => cjkText(chars, seed),
          async (text) => (await countTokens())(text),
        ),
        runs,
      ),
      trimOneTurnMs: await timed(
        prepared(
          (seed) => [{ role: 'user', content: cjkText(chars, seed) }] as Turn[],
          (h) => trim(h, 3_000),
        ),
        runs,
      ),
      trimTurnsMs: await timed(
        prepared(turnsOf, (h) => trim(h, 3_000)),
        runs,
      ),
      trimBigBudgetMs: await timed(
        prepared(turnsOf, (h) => trim(h, 100_000)),
        runs,
      ),
    });
  }
  return results;
}

if (require.main === module) {
  measureTokenCounting().then((samples) => {
    console.log('chars    count    trim 1 turn  trim turns  trim, 100k budget');
    for (const s of samples) {
      console.log(
        `${String(s.chars).padEnd(8)} ${s.countMs.toFixed(1).padStart(6)} ms ${s.trimOneTurnMs.toFixed(1).padStart(8)} ms ${s.trimTurnsMs.toFixed(1).padStart(8)} ms ${s.trimBigBudgetMs.toFixed(1).padStart(10)} ms`,
      );
    }
  });
}
