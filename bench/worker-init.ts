import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { BENCH_DIR, type Bundle, bundle } from './bundles';
import { coldRequireMs } from './cold-init';
import { median } from './stats';

/** The worker's environment for a cold start: the deployed variables, Momento pointed at a local port. */
export const WORKER_ENV: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-bench',
  OPENAI_API_KEY: 'sk-bench',
  OPENAI_TIMEOUT_MS: '90000',
  // A real MOMENTO_API_KEY is decoded at cold start; a local endpoint needs no key (nothing connects yet).
  MOMENTO_LOCAL_ENDPOINT: '127.0.0.1:9',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench.fifo',
  QUEUE_MAX_RECEIVE_COUNT: '4',
  AWS_REGION: 'us-east-1',
};

/** What loading one dependency of the worker costs on its own. */
export interface DependencyCost {
  /** Package name (`@gomomento/sdk`), with `(lazy)` when only a dynamic `import()` reaches it. */
  name: string;
  /** What the project's files import from it. */
  specifiers: string[];
  /** Bytes of the package bundled alone (0 for an external, loaded from node_modules). */
  bytes: number;
  /** Median cold `require` of that bundle, minus an empty bundle's. */
  ms: number;
}

const packageOf = (specifier: string) =>
  (specifier.startsWith('@') ? specifier.split('/').slice(0, 2) : specifier.split('/').slice(0, 1)).join('/');

/**
 * The packages the project's own files import, read from the worker bundle's metafile: static
 * imports and dynamic `import()`s (the latter only parsed at cold start, run on first use).
 */
export function directDependencies(metafile: Metafile): Array<{ name: string; specifiers: string[] }> {
  const found = new Map<string, Set<string>>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (file.includes('node_modules/')) continue;
    for (const imported of input.imports) {
      const specifier = imported.original ?? (imported.external ? imported.path : undefined);
      // `<runtime>`: esbuild's own helpers (keepNames' `__name`), not a package.
      if (!specifier || specifier.startsWith('.') || specifier.startsWith('node:')) continue;
      if (specifier === '<runtime>') continue;
      const name = packageOf(specifier) + (imported.kind === 'dynamic-import' ? ' (lazy)' : '');
      if (!found.has(name)) found.set(name, new Set());
      found.get(name)!.add(specifier);
    }
  }
  return [...found].map(([name, specifiers]) => ({ name, specifiers: [...specifiers].sort() }));
}

/**
 * Bundles each direct dependency alone, the same way as the worker (whole package: an upper bound
 * where the worker tree-shakes), cold-requires each `runs` times round-robin, and subtracts an
 * empty bundle's time. Biggest cost first.
 */
export async function dependencyCosts(metafile: Metafile, runs: number): Promise<DependencyCost[]> {
  const dir = path.join(BENCH_DIR, 'deps');
  const entries: Array<{ name: string; specifiers: string[]; bundle: Bundle }> = [];
  const entry = (name: string, code: string) => {
    const file = path.join(dir, `${name.replace(/[^\w]+/g, '_')}.ts`);
    writeFileSync(file, code);
    return path.relative(path.resolve(BENCH_DIR, '..'), file);
  };
  mkdirSync(dir, { recursive: true });
  const empty = await bundle('dep-empty', entry('empty', 'export const nothing = 0;\n'));
  for (const dep of directDependencies(metafile)) {
    const lazy = dep.name.endsWith('(lazy)');
    const code = dep.specifiers
      .map((s, i) =>
        lazy ? `export const load${i} = () => import('${s}');\n` : `export * as m${i} from '${s}';\n`,
      )
      .join('');
    entries.push({
      ...dep,
      bundle: await bundle(`dep-${dep.name}`.replace(/[^\w]+/g, '_'), entry(dep.name, code)),
    });
  }
  const samples = new Map<string, number[]>([
    ['', []],
    ...entries.map((e) => [e.name, []] as [string, number[]]),
  ]);
  for (let i = 0; i < runs; i++) {
    samples.get('')!.push(await coldRequireMs(empty.file, WORKER_ENV));
    for (const e of entries) samples.get(e.name)!.push(await coldRequireMs(e.bundle.file, WORKER_ENV));
  }
  const base = median(samples.get('')!);
  return entries
    .map((e) => ({
      name: e.name,
      specifiers: e.specifiers,
      bytes: e.specifiers.some((s) => s.startsWith('@aws-sdk/')) ? 0 : e.bundle.bytes,
      ms: Math.max(0, median(samples.get(e.name)!) - base),
    }))
    .sort((a, b) => b.ms - a.ms);
}
