import { createRequire } from 'node:module';
import type { Plugin } from 'esbuild';
import { type Bundle, bundle } from './bundles';

/**
 * The worker bundle as deployed before issue 14 (BENCHMARKS.md, "Worker cold start"): the
 * tokenizer's ranks as one JSON string literal inside the bundle, every Momento service's generated
 * code. Built in the same run as the current bundle, so the two are compared on the same machine
 * at the same moment (the anchor), not against a figure from another day.
 */
const ranksAsJsonString: Plugin = {
  name: 'baseline-tokenizer-ranks-as-json-string',
  setup(build) {
    const load = createRequire(__filename);
    build.onLoad({ filter: /gpt-tokenizer[\\/](esm|cjs)[\\/]bpeRanks[\\/]\w+\.js$/ }, (args) => {
      const cjs = args.path.replace(/([\\/])esm([\\/]bpeRanks[\\/])/, '$1cjs$2');
      return {
        contents: `export default JSON.parse(${JSON.stringify(JSON.stringify(load(cjs).default))});`,
        loader: 'js',
      };
    });
  },
};

/** Builds the baseline worker bundle into `.bench/bundles/worker-baseline/`. */
export function baselineWorkerBundle(): Promise<Bundle> {
  return bundle('worker-baseline', 'handlers/worker.ts', { plugins: [ranksAsJsonString] });
}
