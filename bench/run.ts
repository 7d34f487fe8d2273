import { performance } from 'node:perf_hooks';
import { BOT_USER, SECRET } from '../test/support/slack-events';
import { baselineWorkerBundle } from './baseline-bundle';
import { bundle, bytesByPackage } from './bundles';
import { busyFigures, runBusy, writeBusyPicture } from './busy-figures';
import { coldRequire, interleavedColdStarts } from './cold-init';
import { measureColdPath } from './cold-path';
import { measureCost } from './cost';
import { SQS_ONLY, warmLatencyRun } from './ingress-latency';
import { startLocalBot } from './local-bot';
import { measurePipeline } from './pipeline';
import { benchLine, describe, type Figure, machine, textTable, writeResults } from './report';
import { coldPathFigures, runScale, scaleFigures, writeScalePictures } from './scale-figures';
import { median, percentile } from './stats';
import { measureStreaming, streamingFigures } from './streaming';
import { measureThroughput } from './throughput';
import { measureTokenCounting } from './token-count';
import { measureFirstCard, measureTools } from './tools';
import { dependencyCosts, WORKER_ENV } from './worker-init';

/**
 * `npm run bench`: our bot against a Bolt app in the same run, offline, in a few minutes.
 * Prints a table, then one `bench <name> <value> <unit> target <target> <PASS|MISS>` line per
 * figure, and writes `.bench/results.json` (raw samples too) and `.bench/results.md`.
 * See BENCHMARKS.md for what each figure means and the latest results.
 */

/** How many repetitions; each figure is a median over them. */
const RUNS = {
  coldInit: 15,
  warmLatencyRuns: 4,
  /** Runs of the bare SQS send, the floor (the first rounds only). */
  warmLatencyFloorRuns: 3,
  warmLatencyCalls: 2_000,
  warmLatencyWarmup: 400,
  streaming: 3,
  pipeline: 9,
  workerInit: 11,
  dependencyInit: 5,
  coldPath: 3,
};

const INGRESS_ENV: Record<string, string> = {
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_BOT_TOKEN: 'xoxb-bench',
  SLACK_BOT_USER_ID: BOT_USER,
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench.fifo',
  AWS_REGION: 'us-east-1',
};

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

function step(name: string): () => void {
  const started = performance.now();
  process.stdout.write(`bench: ${name}… `);
  return () => process.stdout.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

async function main(): Promise<void> {
  // The AWS SDK warns once per process that it will need Node 22 (PLATFORM.md): noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};

  // 1. Bundles, built as serverless-esbuild builds them.
  let done = step('bundling ingress, Bolt app and worker');
  const [ours, bolt, worker, baseline] = await Promise.all([
    bundle('ingress', 'handlers/ingress.ts'),
    bundle('bolt', 'bench/bolt-app.ts'),
    bundle('worker', 'handlers/worker.ts'),
    baselineWorkerBundle(),
  ]);
  done();
  const sizeRatio = ours.bytes / bolt.bytes;
  figures.push({
    figure: 1,
    name: 'ingress_bundle_ratio',
    value: sizeRatio,
    unit: 'x',
    target: '<=0.35',
    pass: sizeRatio <= 0.35,
    detail: `ours ${kb(ours.bytes)} vs Bolt ${kb(bolt.bytes)} (minified, @aws-sdk external); biggest in ours: ${bytesByPackage(
      ours.metafile,
    )
      .slice(0, 2)
      .map((p) => `${p.name} ${kb(p.bytes)}`)
      .join(', ')}`,
  });
  raw.bundles = Object.fromEntries(
    [ours, bolt, worker].map((b) => [b.name, { bytes: b.bytes, byPackage: bytesByPackage(b.metafile) }]),
  );

  // 2. Ingress cold init, interleaved.
  done = step(`ingress cold init, ${RUNS.coldInit} fresh processes each`);
  const cold = await interleavedColdStarts(
    [
      { name: 'ours', file: ours.file, env: INGRESS_ENV },
      { name: 'bolt', file: bolt.file, env: INGRESS_ENV },
    ],
    RUNS.coldInit,
  );
  done();
  const coldOurs = median(cold.ours!);
  const coldBolt = median(cold.bolt!);
  figures.push({
    figure: 2,
    name: 'ingress_cold_init_ratio',
    value: coldOurs / coldBolt,
    unit: 'x',
    target: '<=0.6',
    pass: coldOurs / coldBolt <= 0.6,
    detail: `require(): ours ${ms(coldOurs)} vs Bolt ${ms(coldBolt)} (medians of ${RUNS.coldInit}, same run)`,
  });
  raw.ingressColdInitMs = cold;

  // 3. Ingress warm latency, fresh process per run, interleaved.
  done = step(`ingress warm latency, ${RUNS.warmLatencyRuns}×${RUNS.warmLatencyCalls} signed mentions each`);
  const warm: Record<'ours' | 'bolt' | 'sqsOnly', { p50: number[]; p99: number[] }> = {
    ours: { p50: [], p99: [] },
    bolt: { p50: [], p99: [] },
    sqsOnly: { p50: [], p99: [] },
  };
  for (let i = 0; i < RUNS.warmLatencyRuns; i++) {
    const series = [
      ['ours', ours.file],
      ['bolt', bolt.file],
      ['sqsOnly', SQS_ONLY],
    ] as const;
    for (const [name, file] of series.slice(0, i < RUNS.warmLatencyFloorRuns ? 3 : 2)) {
      const run = await warmLatencyRun(file, RUNS.warmLatencyCalls, RUNS.warmLatencyWarmup);
      const expected = RUNS.warmLatencyCalls + RUNS.warmLatencyWarmup;
      if (run.failures > 0 || run.queued !== expected) {
        throw new Error(`${name}: ${run.failures} failed calls, ${run.queued}/${expected} queued`);
      }
      warm[name].p50.push(percentile(run.samples, 50));
      warm[name].p99.push(percentile(run.samples, 99));
    }
  }
  done();
  const p99 = median(warm.ours.p99);
  const boltP99 = median(warm.bolt.p99);
  figures.push({
    figure: 3,
    name: 'ingress_warm_p99',
    value: p99,
    unit: 'ms',
    target: '<=5',
    pass: p99 <= 5,
    detail: `ours p50 ${ms(median(warm.ours.p50))}, p99 ${ms(p99)}, SQS send to in-process fauxqs included; the send alone: p50 ${ms(
      median(warm.sqsOnly.p50),
    )}, p99 ${ms(median(warm.sqsOnly.p99))}`,
  });
  figures.push({
    figure: 3,
    name: 'ingress_warm_p99_vs_bolt',
    value: p99 / boltP99,
    unit: 'x',
    target: '<=1.0',
    pass: p99 <= boltP99,
    detail: `Bolt p50 ${ms(median(warm.bolt.p50))}, p99 ${ms(boltP99)} (medians of ${RUNS.warmLatencyRuns} runs)`,
  });
  raw.ingressWarmLatency = warm;

  // 7. Worker cold init (before the local stack starts, on a quiet machine).
  done = step(`worker cold init, ${RUNS.workerInit} fresh processes, and its dependencies`);
  const workerCold = await interleavedColdStarts(
    [
      { name: 'deployed', file: worker.file, env: WORKER_ENV },
      { name: 'withoutSourceMaps', file: worker.file, env: { ...WORKER_ENV, NODE_OPTIONS: '' } },
      { name: 'baseline', file: baseline.file, env: WORKER_ENV },
    ],
    RUNS.workerInit,
  );
  const { external } = await coldRequire(worker.file, WORKER_ENV);
  // An external the bundle did not load at init (the AWS SDK, on the retry path only) costs nothing there.
  const costs = (await dependencyCosts(worker.metafile, RUNS.dependencyInit)).map((c) =>
    c.bytes === 0 && !external.includes(c.name) ? { ...c, name: `${c.name} (not at init)` } : c,
  );
  done();
  const workerMs = median(workerCold.deployed!);
  const sdkClients = external.filter((e) => e.startsWith('@aws-sdk/client-'));
  const loadsAtInit = external.length
    ? `loads ${sdkClients.join(', ')} (${external.length} packages) from node_modules at init`
    : 'loads nothing from node_modules at init';
  const costliest = costs
    .filter((c) => !c.name.endsWith('(not at init)'))
    .slice(0, 3)
    .map((c) => `${c.name} ${ms(c.ms)}`)
    .join(', ');
  figures.push({
    figure: 7,
    name: 'worker_cold_init',
    value: workerMs,
    unit: 'ms',
    target: '<=250',
    pass: workerMs <= 250,
    detail: `${kb(worker.bytes)}, ${loadsAtInit}; before issue 14 (same run) ${ms(median(workerCold.baseline!))} (${kb(
      baseline.bytes,
    )}), ratio ${(workerMs / median(workerCold.baseline!)).toFixed(2)}; costliest: ${costliest}; what-ifs: ${ms(
      median(workerCold.withoutSourceMaps!),
    )} without --enable-source-maps`,
  });

  // 7b, 12. Mention → first visible feedback from the signed POST, cold and warm, bundles in fresh processes.
  done = step(`cold and warm path to first feedback, ${RUNS.coldPath} rounds, now and before issue 14`);
  const coldPath = await measureColdPath(
    ours.file,
    [
      { name: 'now', file: worker.file },
      { name: 'baseline', file: baseline.file },
    ],
    RUNS.coldPath,
  );
  done();
  figures.push(...coldPathFigures(coldPath));
  raw.coldPath = coldPath;
  raw.workerColdInitMs = workerCold;
  raw.workerExternalAtInit = external;
  raw.workerDependencies = costs;

  // 9. Token counting of long runs without spaces (issue 15.7), before the bot runs.
  done = step('token counting, 5k to 100k CJK characters');
  const tokens = await measureTokenCounting();
  done();
  const at100k = tokens.find((t) => t.chars === 100_000)!;
  const worstTrim = Math.max(at100k.trimOneTurnMs, at100k.trimTurnsMs, at100k.trimBigBudgetMs);
  figures.push({
    figure: 9,
    name: 'trim_100k_cjk_history',
    value: worstTrim,
    unit: 'ms',
    target: '<100',
    pass: worstTrim < 100,
    detail: `slowest of: one 100k turn, 20 turns of 5k (3,000-token budget), 20 turns (100,000-token budget); counting one text of ${tokens
      .map((t) => `${t.chars / 1000}k ${ms(t.countMs)}`)
      .join(', ')}`,
  });
  raw.tokenCounting = tokens;

  const bot = await startLocalBot();
  try {
    // 6. Pipeline overhead.
    done = step(`pipeline overhead, ${RUNS.pipeline} mentions`);
    const pipeline = await measurePipeline(bot, RUNS.pipeline);
    done();
    const overhead = median(pipeline.map((p) => p.overheadMs));
    figures.push({
      figure: 6,
      name: 'pipeline_overhead',
      value: overhead,
      unit: 'ms',
      target: '<=100',
      pass: overhead <= 100,
      detail: `signed POST → placeholder at the Slack peer, queue wait excluded: ingress ${ms(
        median(pipeline.map((p) => p.ingressMs)),
      )} + worker ${ms(median(pipeline.map((p) => p.workerMs)))}`,
    });
    raw.pipeline = pipeline;

    // 4, 5. Streaming.
    done = step(`streaming, ${RUNS.streaming} answers of 300 tokens at 20 ms/token`);
    const streaming = await measureStreaming(bot, { runs: RUNS.streaming, tokens: 300, tokenDelayMs: 20 });
    done();
    figures.push(...streamingFigures('edit', streaming));
    raw.streaming = streaming;

    // 4, 5 again on the native path: the same answers through chat.startStream/appendStream/stopStream.
    done = step(`native streaming, ${RUNS.streaming} answers of 300 tokens at 20 ms/token`);
    const nativeBot = await startLocalBot({ streaming: 'native' });
    try {
      const native = await measureStreaming(nativeBot, {
        runs: RUNS.streaming,
        tokens: 300,
        tokenDelayMs: 20,
      });
      figures.push(...streamingFigures('native', native));
      raw.nativeStreaming = native;
    } finally {
      await nativeBot.close();
    }
    done();

    // 8. Throughput: the pipeline's capacity. All 50 threads are in one channel of one workspace,
    // where Slack allows about one post a second: with the write budget on (as deployed) the bot
    // would rightly take ~10 minutes; figures 10-11 measure the budget against Slack's limits.
    done = step('throughput, 500 mentions over 50 threads (write budget off)');
    const capacityBot = await startLocalBot({ writeBudget: 'off' });
    const throughput = await measureThroughput(capacityBot, {
      threads: 50,
      perThread: 10,
      pollers: 50,
      timeoutMs: 180_000,
    }).finally(() => capacityBot.close());
    done();
    figures.push(
      {
        figure: 8,
        name: 'throughput',
        value: throughput.answeredPerSecond,
        unit: 'answers/s',
        target: '>=10',
        pass: throughput.answeredPerSecond >= 10,
        detail: `${throughput.mentions} mentions, ${throughput.threads} threads, ${throughput.pollers} pollers, ${throughput.seconds.toFixed(1)} s`,
      },
      {
        figure: 8,
        name: 'throughput_lost',
        value: throughput.lost + throughput.rejected,
        unit: 'mentions',
        target: '=0',
        pass: throughput.lost + throughput.rejected === 0,
        detail: `no reply (${throughput.rejected} rejected by the ingress)`,
      },
      {
        figure: 8,
        name: 'throughput_duplicates',
        value: throughput.duplicates,
        unit: 'replies',
        target: '=0',
        pass: throughput.duplicates === 0,
        detail: 'replies beyond one per mention',
      },
      {
        figure: 8,
        name: 'throughput_order_kept',
        value: `${throughput.threads - throughput.outOfOrder}/${throughput.threads}`,
        unit: 'threads',
        target: `=${throughput.threads}/${throughput.threads}`,
        pass: throughput.outOfOrder === 0,
        detail: 'replies in each thread in the order the mentions were sent',
      },
    );
    raw.throughput = throughput;
  } finally {
    await bot.close();
  }

  // 13. Cost inputs (README, "What it costs") and the cold start with secrets from Parameter Store.
  done = step('cost per answer and cold start with parameters');
  const cost = await measureCost();
  done();
  const extraColdMs = cost.coldStart.parameterSecretsMs - cost.coldStart.envSecretsMs;
  figures.push(
    {
      figure: 13,
      name: 'cold_start_parameters_extra',
      value: extraColdMs,
      unit: 'ms',
      target: '<=100',
      pass: extraColdMs <= 100,
      detail: `ingress init + first answer: ${ms(cost.coldStart.parameterSecretsMs)} with the secret from the SSM peer (${cost.coldStart.getParametersCalls} GetParameters call) vs ${ms(cost.coldStart.envSecretsMs)} from the environment; AWS adds one round trip`,
    },
    {
      figure: 13,
      name: 'worker_overhead_per_answer',
      value: cost.worker.overheadMs,
      unit: 'ms',
      target: '<=1500',
      pass: cost.worker.overheadMs <= 1500,
      detail: `worker time beyond the model's stream (${ms(cost.worker.streamMs)} for ${cost.worker.completionTokens} tokens); ingress p50 ${cost.ingressMs.p50.toFixed(2)} ms; Momento ${cost.momentoBytesPerAnswer} B and ${cost.slackCallsPerAnswer} Slack calls per answer`,
    },
  );
  raw.cost = cost;
  // 10, 11. Many answers at once against Slack's tiers per workspace, shared budget in Momento.
  const scale = await runScale(step);
  figures.push(...scaleFigures(scale));
  const pictures = writeScalePictures(scale);
  raw.scale = scale.map(({ calls, ...r }) => ({ ...r, calls: calls.length }));
  // 15. Tools: the question → the first task card in Slack, and the loop's own cost per round.
  done = step('tools: first task card, loop overhead per round');
  const [card, loop] = [await measureFirstCard(), await measureTools()];
  done();
  figures.push(
    {
      figure: 15,
      name: 'tools_first_task_card',
      value: card.firstCardMs,
      unit: 'ms',
      target: `<=${(card.firstTextMs + 50).toFixed(0)}`,
      pass: card.firstCardMs <= card.firstTextMs + 50,
      detail: `signed POST of a question asking for a Slack search → its first task card at Slack (chat.startStream task_update), native streaming, queue wait included; a plain question's first text in the same run: ${ms(card.firstTextMs)} (the card waits for the model's whole tool call, the text only for its first token)`,
    },
    {
      figure: 15,
      name: 'tools_loop_overhead_per_round',
      value: loop.overheadRatio,
      unit: 'x',
      target: '<=1.2',
      pass: loop.overheadRatio <= 1.2,
      detail: `an answer with one round of tools (an instant tool) ${ms(loop.oneRoundMs)} vs two plain model calls ${ms(2 * loop.plainCallMs)}: ${ms(loop.overheadPerRoundMs)} of the loop's own per round; question → first tool call ${ms(loop.toFirstCallMs)}`,
    },
  );
  raw.tools = { card, loop };
  // 14. A busy workspace: bursts in one channel (and in ten workspaces) and a steady morning.
  const busy = await runBusy(step);
  figures.push(...busyFigures(busy));
  pictures.push(writeBusyPicture(busy));
  raw.busy = busy;

  figures.sort((a, b) => a.figure - b.figure);
  const seconds = (performance.now() - started) / 1000;
  const m = machine();
  const where = writeResults({ machine: m, startedAt, seconds, figures, raw });
  console.log(`\n${textTable(figures)}\n`);
  console.log('worker cold init by dependency (each bundled alone, cold require minus an empty bundle):');
  for (const c of costs)
    console.log(`  ${c.name.padEnd(42)} ${ms(c.ms).padStart(9)}  ${c.bytes ? kb(c.bytes) : 'external'}`);
  console.log('');
  console.log(`machine: ${describe(m)}`);
  console.log(
    `results: ${where.json}, ${where.markdown}; pictures: ${pictures.join(', ')}; ${seconds.toFixed(0)} s\n`,
  );
  for (const f of figures) console.log(benchLine(f));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
