import { execFile } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createIngressHandler } from '../lib/ingress/ingress-handler';
import { createMetrics } from '../lib/metrics';
import { sqsJobQueue } from '../lib/queue/sqs-job-queue';
import { buildWorkerDeps } from '../lib/worker/worker-deps';
import { createWorkerHandler } from '../lib/worker/worker-handler';
import { lambdaContext } from '../sandbox/lambda-context';
import { pollOnce } from '../sandbox/local-event-source';
import { LOCAL_SIGNING_SECRET, startLocalStack } from '../sandbox/local-stack';
import { LOCAL_AWS_CREDENTIALS } from '../sandbox/peers/sqs-peer';
import { startSsmPeer } from '../sandbox/peers/ssm-peer';
import { functionUrlEvent, mention, SECRET } from '../test/support/slack-events';
import { bundle } from './bundles';
import { LAMBDA_NODE_OPTIONS } from './cold-init';
import { median, percentile } from './stats';

const run = promisify(execFile);

/**
 * The figures the README's cost per 1,000 answers is computed from, measured on the local peers
 * (`npx tsx bench/cost.ts` alone, or as part of `npm run bench`):
 * - the ingress's handler time per Slack request (billed per ms, rounded up);
 * - the worker's time per answer beyond the model's stream, with a stream of a fixed length and
 *   pace, so `worker seconds = overhead + completion tokens / tokens per second` can be redone with
 *   one's own model speed;
 * - Momento payload bytes per answer (claim, history, quota counters: what Momento bills);
 * - the cold start with the secrets read from Parameter Store against the environment (one
 *   `GetParameters` call; the local peer has no network latency, AWS adds one round trip).
 */
export interface CostFigures {
  ingressMs: { p50: number; p99: number };
  worker: {
    totalMs: number;
    streamMs: number;
    overheadMs: number;
    completionTokens: number;
    promptTokens: number;
  };
  momentoBytesPerAnswer: number;
  slackCallsPerAnswer: number;
  coldStart: { envSecretsMs: number; parameterSecretsMs: number; getParametersCalls: number };
}

/** The answer length and pace of the measured stream: ~300 tokens at 50 tokens/s. */
export const STREAM = { tokens: 300, tokenDelayMs: 20 };

export async function measureCost(
  options: { answers?: number; ingressCalls?: number; coldStarts?: number } = {},
) {
  const answers = options.answers ?? 3;
  const stack = await startLocalStack({ tokenDelayMs: STREAM.tokenDelayMs });
  const logger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
  try {
    // Ingress: the handler alone, in process, as the warm Lambda runs it.
    const ingress = createIngressHandler({
      config: stack.ingressConfig,
      queue: sqsJobQueue(stack.sqs.client(), stack.queue.queueUrl),
      logger,
    });
    const context = lambdaContext('ingress', 5_000);
    const ingressMs: number[] = [];
    const calls = options.ingressCalls ?? 300;
    for (let i = 0; i < calls + 50; i++) {
      const event = functionUrlEvent(mention(), { secret: LOCAL_SIGNING_SECRET });
      const started = performance.now();
      const result = await ingress(event, context);
      if (i >= 50) ingressMs.push(performance.now() - started);
      if (result.statusCode !== 200) throw new Error(`ingress answered ${result.statusCode}`);
    }

    // Worker: whole answers with every guard on (quota counters included), as deployed.
    const emf: Array<Record<string, number>> = [];
    const config = {
      ...stack.workerConfig,
      queue: { ...stack.workerConfig.queue, url: stack.queue.queueUrl },
      governance: { ...stack.workerConfig.governance, userDailyTokenLimit: 1e9, teamDailyTokenLimit: 1e9 },
    };
    const sqs = stack.sqs.client();
    const deps = buildWorkerDeps(config, logger, {
      sqs,
      metrics: createMetrics('bench', 'slack-worker', { write: (line) => emf.push(JSON.parse(line)) }),
    });
    const worker = createWorkerHandler(deps);
    stack.openai!.setAnswer(Array.from({ length: STREAM.tokens }, (_, i) => `w${i % 10}`).join(' '));
    const samples: CostFigures['worker'][] = [];
    const bytes: number[] = [];
    const slackCalls: number[] = [];
    for (let i = 0; i <= answers; i++) {
      const queue = stack.sqs.createFifoQueue(`cost-${i}`);
      await sqsJobQueue(sqs, queue.queueUrl).enqueue({
        v: 1,
        eventId: `EvCOST${i}${Date.now()}`,
        teamId: 'T0COST',
        channel: 'C0COST',
        threadTs: `17000${i}.000100`,
        ts: `17000${i}.000100`,
        user: 'U0COST',
        text: 'How do I rotate a key?',
        isDm: false,
        receivedAt: Date.now(),
      });
      const momento = stack.momento!.bytes;
      const before = { bytes: momento.in + momento.out, slack: stack.slack.calls.length, emf: emf.length };
      const started = performance.now();
      await pollOnce(sqs, queue, worker, { context: () => lambdaContext('worker', 120_000) });
      const totalMs = performance.now() - started;
      if (i === 0) continue; // warm-up: first connections, cache creation
      const stream = emf.slice(before.emf).find((m) => 'TimeToComplete' in m)!;
      samples.push({
        totalMs,
        streamMs: stream.TimeToComplete!,
        overheadMs: totalMs - stream.TimeToComplete!,
        completionTokens: stream.CompletionTokens!,
        promptTokens: stream.PromptTokens!,
      });
      bytes.push(momento.in + momento.out - before.bytes);
      slackCalls.push(stack.slack.calls.length - before.slack);
    }
    deps.close();
    const pick = (key: keyof CostFigures['worker']) => median(samples.map((s) => s[key]));

    const coldStart = await measureColdStartWithParameters(options.coldStarts ?? 5);
    return {
      ingressMs: { p50: median(ingressMs), p99: percentile(ingressMs, 99) },
      worker: {
        totalMs: pick('totalMs'),
        streamMs: pick('streamMs'),
        overheadMs: pick('overheadMs'),
        completionTokens: pick('completionTokens'),
        promptTokens: pick('promptTokens'),
      },
      momentoBytesPerAnswer: median(bytes),
      slackCallsPerAnswer: median(slackCalls),
      coldStart,
    } satisfies CostFigures;
  } finally {
    await stack.close();
  }
}

/**
 * The child: require the ingress bundle, then answer one signed `url_verification`, as Lambda's
 * init plus first invocation; prints the time to the answer.
 */
const CHILD = `
const started = process.hrtime.bigint();
const { handler } = require(process.argv[1]);
const event = JSON.parse(process.argv[2]);
handler(event, { getRemainingTimeInMillis: () => 5000, functionName: 'ingress', awsRequestId: 'cold' }).then((r) => {
  if (r.statusCode !== 200) throw new Error('status ' + r.statusCode);
  process.stdout.write('\\nBENCH_COLD=' + Number(process.hrtime.bigint() - started) / 1e6 + '\\n');
  process.exit(0);
}, (e) => { console.error(e); process.exit(1); });
`;

async function measureColdStartWithParameters(runs: number): Promise<CostFigures['coldStart']> {
  const ingress = await bundle('ingress', 'handlers/ingress.ts');
  const ssm = await startSsmPeer();
  ssm.put('/slack-gpt-bot/bench/SLACK_SIGNING_SECRET', SECRET);
  const base = {
    QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench.fifo',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
  };
  const variants = {
    env: { ...base, SLACK_SIGNING_SECRET: SECRET },
    parameters: {
      ...base,
      SECRETS_PARAMETER_PATH: '/slack-gpt-bot/bench/',
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    },
  };
  const samples = { env: [] as number[], parameters: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const name of ['env', 'parameters'] as const) {
        const event: APIGatewayProxyEventV2 = functionUrlEvent({
          type: 'url_verification',
          challenge: 'c',
          token: 't',
        });
        const { stdout } = await run(process.execPath, ['-e', CHILD, ingress.file, JSON.stringify(event)], {
          cwd: path.dirname(ingress.file),
          env: {
            PATH: process.env.PATH ?? '',
            NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
            NODE_NO_WARNINGS: '1',
            ...variants[name],
          },
          timeout: 30_000,
        });
        samples[name].push(Number(/BENCH_COLD=(.*)/.exec(stdout)?.[1]));
      }
    }
    return {
      envSecretsMs: median(samples.env),
      parameterSecretsMs: median(samples.parameters),
      getParametersCalls: ssm.calls.filter((c) => c.operation === 'GetParameters').length / runs,
    };
  } finally {
    await ssm.close();
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  measureCost().then(
    (figures) => {
      console.log(JSON.stringify(figures, null, 2));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
