import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(__dirname, '../..');

/**
 * The packages a handler loads when its module is first required: those reached from it through
 * static `import` statements only. A `require()` or `import()` inside a function loads on first
 * use, so it is not followed (esbuild's metafile names each import's kind).
 */
async function eagerPackages(handler: string): Promise<string[]> {
  const { metafile } = await build({
    entryPoints: [path.join(root, `handlers/${handler}.ts`)],
    bundle: true,
    write: false,
    metafile: true,
    outdir: path.join(root, '.esbuild/cold-start-imports'),
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // The Lambda runtime provides the AWS SDK v3 (serverless.yml leaves it out of the bundles).
    external: ['@aws-sdk/*'],
    logLevel: 'error',
  });
  const packageOf = (p: string) => {
    const parts = p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  };
  const start = Object.keys(metafile.inputs).find((p) => p.endsWith(`handlers/${handler}.ts`))!;
  const seen = new Set([start]);
  const packages = new Set<string>();
  const queue = [start];
  for (let at = queue.pop(); at !== undefined; at = queue.pop()) {
    for (const imp of metafile.inputs[at]?.imports ?? []) {
      if (imp.kind !== 'import-statement') continue;
      if (imp.external || imp.path.includes('node_modules/')) {
        if (!imp.path.startsWith('node:')) packages.add(imp.external ? imp.path : packageOf(imp.path));
      }
      if (imp.external || seen.has(imp.path)) continue;
      seen.add(imp.path);
      queue.push(imp.path);
    }
  }
  return [...packages].sort();
}

describe('what each handler loads at cold start', () => {
  it('ingress: none of the Slack SDK, OpenAI, Momento or the tokenizer (it must ack within 3 s)', async () => {
    // Act
    const eager = await eagerPackages('ingress');
    // Assess: @slack/web-api is bundled for distribution mode's install routes, loaded on them only.
    expect(eager).toContain('zod');
    const heavy = ['@slack/web-api', '@slack/oauth', 'openai', '@gomomento/sdk', 'gpt-tokenizer'];
    expect(eager.filter((p) => heavy.includes(p))).toEqual([]);
  });

  it('worker: the SQS client only once a record fails (SQS delivers, the worker only shortens visibility)', async () => {
    // Act
    const eager = await eagerPackages('worker');
    // Assess
    expect(eager).toEqual(expect.arrayContaining(['@slack/web-api', 'openai', '@gomomento/sdk']));
    expect(eager).not.toContain('@aws-sdk/client-sqs');
    expect(eager).not.toContain('@modelcontextprotocol/sdk');
  });
});
