/** Deterministic CJK text without spaces or punctuation: the tokenizer's quadratic case. */
export function cjkText(chars: number, seed = 12345): string {
  let x = seed;
  let s = '';
  for (let i = 0; i < chars; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += String.fromCharCode(0x4e00 + (x % 2000));
  }
  return s;
}
