// esbuild plugins for the Lambda bundles: serverless.yml (custom.esbuild.plugins) and the bench
// (bench/bundles.ts) load this same file, so what is measured is what is deployed.
const { createRequire } = require('node:module');

/**
 * Bundles gpt-tokenizer's BPE ranks (an array literal of ~200,000 strings, 2.7 MB minified) as
 * one JSON string, parsed on first use.
 *
 * Why: esbuild wraps a lazily imported module in an arrow function when it minifies, and V8 fully
 * parses an arrow function's body when it compiles the bundle, even if it never runs: the array
 * literal cost ~100-250 ms of every worker cold start (BENCHMARKS.md, figure 7). A string literal
 * of the same data costs a scan, and `JSON.parse` on first use is no slower than the literal.
 * The data is the library's own (its CommonJS build), so token counts are identical
 * (test/integration/esbuild-plugins.test.ts).
 * @type {import('esbuild').Plugin}
 */
const tokenizerRanksAsJson = {
  name: 'tokenizer-ranks-as-json',
  setup(build) {
    const load = createRequire(__filename);
    build.onLoad({ filter: /gpt-tokenizer[\\/](esm|cjs)[\\/]bpeRanks[\\/]\w+\.js$/ }, (args) => {
      const cjs = args.path.replace(/([\\/])esm([\\/]bpeRanks[\\/])/, '$1cjs$2');
      const ranks = load(cjs).default;
      return {
        contents: `export default JSON.parse(${JSON.stringify(JSON.stringify(ranks))});`,
        loader: 'js',
      };
    });
  },
};

module.exports = [tokenizerRanksAsJson];
