import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR } from './bundles';

/** One benchmark figure, with its target. */
export interface Figure {
  /** The figure number (1–8; 9 is token counting, issue 15.7). */
  figure: number;
  /** `snake_case` name of the `bench` line. */
  name: string;
  value: number | string;
  unit: string;
  /** As printed, e.g. `<=0.35`. */
  target: string;
  pass: boolean;
  /** What was measured against what, for the table. */
  detail: string;
}

/** The machine the figures come from. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started and ended: other work on a shared machine. */
  loadAverage: { start: number; end: number };
  /**
   * A fixed JavaScript loop (10⁸ iterations) timed at the start and end of the run, ms: how fast
   * this (virtual) CPU was then. On a shared host it varies by 1.5× with no load in the guest.
   */
  calibrationMs: { start: number; end: number };
}

const load = () => Math.round(os.loadavg()[0]! * 100) / 100;
const loadAtStart = load();

function calibrate(): number {
  const started = process.hrtime.bigint();
  let sum = 0;
  for (let i = 0; i < 1e8; i++) sum += i % 7;
  if (sum < 0) throw new Error('unreachable');
  return Math.round(Number(process.hrtime.bigint() - started) / 1e6);
}
const calibrationAtStart = calibrate();

/** Describes this machine (the load average at start is taken when this module loads). */
export function machine(): Machine {
  return {
    loadAverage: { start: loadAtStart, end: load() },
    calibrationMs: { start: calibrationAtStart, end: calibrate() },
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

const formatValue = (value: number | string) => {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
};

/** One line about the machine. */
export function describe(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}, load average ${m.loadAverage.start} → ${m.loadAverage.end}, calibration loop ${m.calibrationMs.start} → ${m.calibrationMs.end} ms`;
}

/** `bench <name> <value> <unit> target <target> <PASS|MISS>` */
export function benchLine(f: Figure): string {
  return `bench ${f.name} ${formatValue(f.value)} ${f.unit} target ${f.target} ${f.pass ? 'PASS' : 'MISS'}`;
}

/** The figures as a fixed-width text table. */
export function textTable(figures: Figure[]): string {
  const rows = [
    ['#', 'figure', 'value', 'target', 'result', 'detail'],
    ...figures.map((f) => [
      String(f.figure),
      f.name,
      `${formatValue(f.value)} ${f.unit}`,
      f.target,
      f.pass ? 'PASS' : 'MISS',
      f.detail,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The figures as a Markdown table, for BENCHMARKS.md. */
export function markdownTable(figures: Figure[]): string {
  return [
    '| # | figure | value | target | result | detail |',
    '|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.figure} | \`${f.name}\` | ${formatValue(f.value)} ${f.unit} | ${f.target} | ${f.pass ? 'PASS' : '**MISS**'} | ${f.detail} |`,
    ),
  ].join('\n');
}

/** Writes `.bench/results.json` (everything, raw samples included) and `.bench/results.md`. */
export function writeResults(results: {
  machine: Machine;
  startedAt: string;
  seconds: number;
  figures: Figure[];
  raw: Record<string, unknown>;
}): { json: string; markdown: string } {
  mkdirSync(BENCH_DIR, { recursive: true });
  const json = path.join(BENCH_DIR, 'results.json');
  const markdown = path.join(BENCH_DIR, 'results.md');
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  const m = results.machine;
  writeFileSync(
    markdown,
    `${markdownTable(results.figures)}\n\nMachine: ${describe(m)}. ` +
      `Run ${results.startedAt}, ${Math.round(results.seconds)} s.\n`,
  );
  return { json, markdown };
}
