/** ANSI styles for terminal output: real colours on a TTY (unless `NO_COLOR`), plain text otherwise. */
export interface Style {
  readonly color: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

const sgr = (on: number, off: number) => (text: string) => `\x1b[${on}m${text}\x1b[${off}m`;
const plain = (text: string) => text;

/**
 * The styles for `stream`. https://no-color.org: `NO_COLOR` set to anything turns colours off;
 * `FORCE_COLOR` (not `0`) turns them on when the stream is not a TTY.
 */
export function styleFor(stream: { isTTY?: boolean } = process.stdout): Style {
  const force = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
  const color = !process.env.NO_COLOR && (stream.isTTY === true || force);
  const pick = (on: number, off: number) => (color ? sgr(on, off) : plain);
  return {
    color,
    bold: pick(1, 22),
    dim: pick(2, 22),
    red: pick(31, 39),
    green: pick(32, 39),
    yellow: pick(33, 39),
    cyan: pick(36, 39),
    magenta: pick(35, 39),
  };
}

/** `1234.5` → `1.23 s`, `87.2` → `87 ms`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** The median of `values`, or undefined when empty. */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The `p`-th percentile (nearest rank) of `values`, or undefined when empty. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
