// esbuild plugins for the Lambda bundles: serverless.yml (custom.esbuild.plugins) and the bench
// (bench/bundles.ts) load this same file, so what is measured is what is deployed.
const { writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');

/** Next to each bundle that needs them: `<bundle>.js.o200k.json`. */
const RANKS_SUFFIX = '.o200k.json';
const RANKS_MODULE = /gpt-tokenizer[\\/](esm|cjs)[\\/]bpeRanks[\\/]\w+\.js$/;

/**
 * Moves gpt-tokenizer's BPE ranks (~200,000 strings) out of the bundle into a JSON file next to it,
 * read and parsed on first use.
 *
 * Why: V8 scans every literal of a script when it compiles it, even inside code that never runs:
 * as an array literal the ranks cost ~100-250 ms of every worker cold start, as one JSON string
 * literal (2.8 MB with esbuild's ASCII escapes) still ~40 ms (BENCHMARKS.md, figure 7). A file is
 * not read until a token is counted, which comes after the answer's first visible feedback, and
 * `JSON.parse` of it costs what parsing the string did. The file is named after the bundle, so
 * serverless-esbuild packs it with that function only (it leaves out `<other bundle>.*` files).
 * The data is the library's own (its CommonJS build): token counts are identical
 * (test/integration/esbuild-plugins.test.ts).
 * @type {import('esbuild').Plugin}
 */
const tokenizerRanksBesideBundle = {
  name: 'tokenizer-ranks-beside-bundle',
  setup(build) {
    const load = createRequire(__filename);
    build.initialOptions.metafile = true;
    let ranksFile;
    build.onLoad({ filter: RANKS_MODULE }, (args) => {
      ranksFile = args.path.replace(/([\\/])esm([\\/]bpeRanks[\\/])/, '$1cjs$2');
      return {
        // `__filename` is the bundle's own path at run time (CommonJS output).
        contents: `export default JSON.parse(require('node:fs').readFileSync(__filename + ${JSON.stringify(RANKS_SUFFIX)}, 'utf8'));`,
        loader: 'js',
      };
    });
    build.onEnd((result) => {
      if (!ranksFile || !result.metafile) return;
      const root = build.initialOptions.absWorkingDir ?? process.cwd();
      for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
        if (!output.endsWith('.js') || !Object.keys(inputs).some((input) => RANKS_MODULE.test(input)))
          continue;
        writeFileSync(path.resolve(root, output + RANKS_SUFFIX), JSON.stringify(load(ranksFile).default));
      }
    });
  },
};

/**
 * The Momento services whose protobuf-generated modules the bot uses: the cache data service
 * (`cacheclient`, with `common`), cache creation (`controlclient`) and `cacheping`. The SDK's
 * index loads every service's client (auth, tokens, topics, leaderboards, webhooks, functions),
 * and each of those `require`s its generated module at load time; the bot never calls them.
 */
const MOMENTO_SERVICES_USED = new Set([
  'index',
  'cacheclient',
  'controlclient',
  'common',
  'cacheping',
  'extensions',
]);

/**
 * Replaces the `@gomomento/generated-types` modules of Momento services the bot never calls with a
 * stub, keeping `@gomomento/sdk` itself: ~250 KB less code to read and compile at every worker cold
 * start (BENCHMARKS.md). The stub answers any property read with itself, so the SDK's module-level
 * `generated_types_1.leaderboard._Element`-style reads still load; calling or constructing
 * anything of it throws, naming the module: using one of those services needs this list extended.
 * @type {import('esbuild').Plugin}
 */
const unusedMomentoServicesStubbed = {
  name: 'unused-momento-services-stubbed',
  setup(build) {
    build.onLoad({ filter: /@gomomento[\\/]generated-types[\\/]dist[\\/]\w+\.js$/ }, (args) => {
      const name = /(\w+)\.js$/.exec(args.path)[1];
      if (MOMENTO_SERVICES_USED.has(name)) return undefined;
      return {
        contents: `const fail = () => { throw new Error('@gomomento/generated-types/dist/${name} is left out of this bundle (esbuild-plugins.js)'); };
const stub = new Proxy(function () {}, {
  get: (_t, key) => (key === '__esModule' ? true : key === Symbol.toPrimitive ? undefined : stub),
  apply: fail,
  construct: fail,
  ownKeys: () => ['prototype'],
});
module.exports = stub;`,
        loader: 'js',
      };
    });
  },
};

module.exports = [tokenizerRanksBesideBundle, unusedMomentoServicesStubbed];
