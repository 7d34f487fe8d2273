import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

const plugins = require('../../esbuild-plugins.js') as Plugin[];
const root = path.resolve(__dirname, '../..');

describe('esbuild-plugins.js (the Lambda bundles’ plugins)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'plugins-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the tokenizer ranks in a JSON file beside the bundle, and the bundled counter counts exactly as the library', async () => {
    // Prepare: lib/llm/prompt.ts's counter, bundled as serverless.yml bundles the worker.
    const outfile = path.join(dir, 'prompt.js');
    await build({
      entryPoints: [path.join(root, 'lib/llm/prompt.ts')],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      plugins,
      logLevel: 'error',
    });
    const bundled = require(outfile) as typeof import('../../lib/llm/prompt');
    const texts = [
      'hello world',
      '日本語のテキストを数える 🚀👩‍💻',
      'const x = await fetch(url); // code',
      ' '.repeat(7),
    ];
    // Act
    const count = await bundled.o200kTokenCounter();
    // Assess
    for (const text of texts) expect(count(text)).toBe(countTokens(text));
    const { statSync } = require('node:fs') as typeof import('node:fs');
    expect(statSync(outfile).size).toBeLessThan(200_000);
    expect(statSync(`${outfile}.o200k.json`).size).toBeGreaterThan(1_000_000);
  });

  it('leaves out the Momento services the bot never calls, and the cache client still loads', async () => {
    // Prepare: the SDK's client, bundled with the plugins.
    const entry = path.join(dir, 'momento-entry.js');
    require('node:fs').writeFileSync(
      entry,
      "const sdk = require('@gomomento/sdk'); const gt = require('@gomomento/generated-types');\n" +
        'module.exports = { sdk, leaderboard: gt.leaderboard, cache: gt.cache };\n',
    );
    const outfile = path.join(dir, 'momento.js');
    await build({
      entryPoints: [entry],
      nodePaths: [path.join(root, 'node_modules')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      plugins,
      logLevel: 'error',
    });
    // Act
    const bundled = require(outfile);
    // Assess
    expect(typeof bundled.sdk.CacheClient).toBe('function');
    expect(typeof bundled.cache.cache_client.UnimplementedScsService).toBe('function');
    expect(() => new bundled.leaderboard.leaderboard._Element()).toThrow(
      /generated-types\/dist\/leaderboard is left out/,
    );
  });
});
