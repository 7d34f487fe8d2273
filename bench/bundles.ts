import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

/** The project root. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
/** Where the bench writes bundles and results: `.bench/` in the project (gitignored). */
export const BENCH_DIR = path.join(PROJECT_ROOT, '.bench');

/**
 * The options `serverless.yml` (`custom.esbuild`) gives serverless-esbuild, as esbuild's JS API
 * takes them; keep the two in step. serverless-esbuild's `exclude: ['@aws-sdk/*']` becomes
 * `external`: the Lambda runtime provides the AWS SDK v3.
 */
export const SERVERLESS_ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  keepNames: true,
  treeShaking: true,
  sourcemap: 'linked',
  sourcesContent: false,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  external: ['@aws-sdk/*'],
  // serverless.yml `plugins: ./esbuild-plugins.js`: the same file.
  plugins: require('../esbuild-plugins.js') as Plugin[],
};

/** A bundle written by {@link bundle}. */
export interface Bundle {
  name: string;
  /** Absolute path of the `.js` file. */
  file: string;
  /** Size of the `.js` file (the source map not counted). */
  bytes: number;
  metafile: Metafile;
}

/**
 * Bundles `entry` (relative to the project root) as serverless-esbuild would, into
 * `.bench/bundles/<name>/index.js`. Inside the project, `require('@aws-sdk/...')` from the bundle
 * resolves to the project's `node_modules`, standing in for the SDK the Lambda runtime provides.
 */
export async function bundle(name: string, entry: string, extra: BuildOptions = {}): Promise<Bundle> {
  const dir = path.join(BENCH_DIR, 'bundles', name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'index.js');
  const result = await build({
    ...SERVERLESS_ESBUILD_OPTIONS,
    ...extra,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [path.join(PROJECT_ROOT, entry)],
    outfile: file,
    metafile: true,
    logLevel: 'error',
  });
  return { name, file, bytes: statSync(file).size, metafile: result.metafile };
}

/** Bytes each package contributes to a bundle, biggest first (`lib/…` and `handlers/…` as one each). */
export function bytesByPackage(metafile: Metafile): Array<{ name: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/')[0]!;
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}
