import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `NODE_OPTIONS` as `serverless.yml` deploys both functions (`provider.environment`): with
 * `--enable-source-maps`, Node reads a bundle's linked source map when it loads it, which is part
 * of a real cold start.
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/**
 * The child's program: time `require` of the bundle, as Lambda's init phase does, and print it
 * with the packages it loaded from outside the bundle. Warnings off (the AWS SDK warns about
 * Node 20 on stderr), the same for every bundle.
 */
const CHILD = `
const started = process.hrtime.bigint();
require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const external = new Set();
for (const key of Object.keys(require.cache)) {
  const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(key);
  if (m) external.add(m[1].replace(/\\\\/g, '/'));
}
process.stdout.write('\\nBENCH_INIT=' + JSON.stringify({ ms, external: [...external].sort() }) + '\\n');
process.exit(0);
`;

/** What one cold start measured. */
export interface ColdStart {
  /** Time to `require` the bundle, ms. */
  ms: number;
  /** Packages loaded from `node_modules` (outside the bundle) during that `require`. */
  external: string[];
}

/** {@link coldRequire}'s time only. */
export async function coldRequireMs(file: string, env: Record<string, string>): Promise<number> {
  return (await coldRequire(file, env)).ms;
}

/**
 * Cold-starts `file` once in a fresh `node` process with only `env` (and `PATH`), like a Lambda
 * init, and returns how long `require` took and what it loaded from outside the bundle.
 */
export async function coldRequire(file: string, env: Record<string, string>): Promise<ColdStart> {
  const { stdout } = await run(process.execPath, ['-e', CHILD, file], {
    cwd: path.dirname(file),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      NODE_NO_WARNINGS: '1',
      ...env,
    },
    timeout: 30_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stderr?: string; message: string }) => {
    // A minified bundle puts a module on one line: keep the message short.
    throw new Error(`cold require of ${file} failed: ${(error.stderr ?? error.message).slice(-800)}`);
  });
  const line = /BENCH_INIT=(.*)/.exec(stdout)?.[1];
  if (line === undefined) throw new Error(`no timing from ${file}: ${stdout.slice(-400)}`);
  return JSON.parse(line) as ColdStart;
}

/**
 * Cold-starts each target `runs` times, interleaved (A, B, A, B, …) so that a slow patch of the
 * shared machine hits every target alike.
 * @returns the samples per target name.
 */
export async function interleavedColdStarts(
  targets: Array<{ name: string; file: string; env: Record<string, string> }>,
  runs: number,
): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const t of targets) samples[t.name]!.push(await coldRequireMs(t.file, t.env));
  }
  return samples;
}
