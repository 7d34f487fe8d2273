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

  it('bundles the tokenizer ranks as JSON, and the bundled counter counts exactly as the library', async () => {
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
    const source = require('node:fs').readFileSync(outfile, 'utf8') as string;
    expect(source).toContain('JSON.parse(');
  });
});
