import { createRequire } from 'node:module';
import type { Plugin } from 'esbuild';

/**
 * A proposed fix, measured by `npm run bench` but not deployed (see BENCHMARKS.md, figure 7):
 * an esbuild plugin that bundles gpt-tokenizer's BPE ranks (an array literal of 200,000 strings,
 * 2.7 MB minified) as one JSON string, parsed on first use.
 *
 * Why: esbuild wraps a lazily imported module in an arrow function when it minifies
 * (`var x=f(()=>{…})`), and V8 fully parses an arrow function's body when it compiles the bundle,
 * even if it never runs. A 200,000-element array literal costs ~100 ms there; a string literal of
 * the same data costs a scan. `JSON.parse` on first use is no slower than the literal was.
 */
export const tokenizerRanksAsJson: Plugin = {
  name: 'tokenizer-ranks-as-json',
  setup(build) {
    const require = createRequire(__filename);
    build.onLoad({ filter: /gpt-tokenizer[\\/]esm[\\/]bpeRanks[\\/]\w+\.js$/ }, (args) => {
      const cjs = args.path.replace(/([\\/])esm([\\/]bpeRanks[\\/])/, '$1cjs$2');
      const ranks = (require(cjs) as { default: unknown }).default;
      return {
        contents: `export default JSON.parse(${JSON.stringify(JSON.stringify(ranks))});`,
        loader: 'js',
      };
    });
  },
};
