import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AnswerTracker } from './answer-tracker';
import { parseCli, runCli, UsageError, untilSignal, wholeNumber } from './cli';
import { readEventFiles } from './event-files';
import { readExpectations } from './expectations';
import { LOCAL_SIGNING_SECRET } from './local-stack';
import { EventRestamper } from './restamp-event';
import { type LocalBot, startLocalBot } from './run-local';
import { runDistributionDemo } from './start-distribution';
import { type EventResult, runStartScenario } from './start-scenario';
import { formatMs, median, styleFor } from './terminal';
import { ThreadPrinter } from './thread-printer';

/**
 * `npm start`: the whole bot on this machine, end to end, offline. Starts the local peers (or uses
 * the OpenAI/Momento configured in the environment or `.env`), runs the real handlers, replays
 * every payload of `events/` through the signed HTTP path, prints each thread as it is answered,
 * then a summary, and a last line `summary {json}` for scripts. Exit 0 when every event did what
 * `events/expectations.json` says, 1 otherwise, 2 when it could not run.
 */

const USAGE = `usage: npm start [-- [--serve] [--port N] [--logs] [--no-env-file]]

  --serve        keep running after the replay: print the local ingress URL and how to send more
  --port N       port of the local ingress (a Function URL); default a free one
  --logs         show the handlers' logs (POWERTOOLS_LOG_LEVEL, default INFO); default warnings only
  --no-env-file  do not read .env`;

const ROOT = resolve(__dirname, '..');
const EVENTS = join(ROOT, 'events');
/** Every answer must be complete this long after the replay starts (the local peers take ~3 s). */
const DEADLINE_MS = 40_000;

async function main(): Promise<number> {
  const cli = parseCli(
    {
      options: {
        serve: { type: 'boolean' },
        port: { type: 'string' },
        logs: { type: 'boolean' },
      },
    },
    USAGE,
  );
  if (!cli) return 0;
  const { values, envFile } = cli;
  const began = performance.now();
  const port = wholeNumber('port', values.port, 0);
  if (port > 65_535) throw new UsageError(`--port must be at most 65535, not ${port}`);
  const { files } = await readEventFiles([EVENTS]);
  const expectations = await readExpectations(join(EVENTS, 'expectations.json'), files);
  const s = styleFor(process.stdout);

  const bot = await startLocalBot({
    port,
    // The summary says what went wrong; the handlers' JSON logs are there for a closer look.
    logLevel: values.logs ? process.env.POWERTOOLS_LOG_LEVEL?.trim() || 'INFO' : 'SILENT',
  });
  // Ctrl-C during the replay closes everything and exits 130; with --serve it ends the serving.
  let replaying = true;
  const signal = untilSignal();
  void signal.then(async () => {
    if (!replaying) return;
    await bot.close();
    process.exit(130);
  });

  console.log(s.bold('slack-gpt-bot, running on this machine'));
  if (envFile) console.log(s.dim(`  read ${envFile}`));
  console.log(`  ingress   ${bot.ingressUrl} ${s.dim('(handlers/ingress.ts behind a local Function URL)')}`);
  console.log(`  worker    handlers/worker.ts ${s.dim('behind a local SQS event source mapping')}`);
  for (const [name, where] of Object.entries(bot.services)) console.log(`  ${name.padEnd(9)} ${where}`);
  console.log('');

  const tracker = new AnswerTracker(bot.stack.slack, bot);
  const printer = new ThreadPrinter(bot.stack.slack, {
    describe: (channel, threadTs) => {
      const answer = tracker.latest(channel, threadTs);
      if (!answer) return undefined;
      const first = answer.firstTextAt === undefined ? undefined : answer.firstTextAt - answer.sentAt;
      const full = answer.lastWriteAt === undefined ? undefined : answer.lastWriteAt - answer.sentAt;
      return {
        title: answer.label,
        footer: s.dim(
          `${answer.path === 'native' ? 'streamed natively (chat.startStream)' : 'edited in place (chat.update)'}` +
            ` · first text after ${formatMs(first)} · complete after ${formatMs(full)}`,
        ),
      };
    },
  });

  printer.log(s.bold(`Replaying ${files.length} events from events/ through the signed HTTP path`));
  const { events: results, problems } = await runStartScenario({
    bot,
    tracker,
    printer,
    restamper: new EventRestamper({ ts: true }),
    files,
    expectations,
    secret: LOCAL_SIGNING_SECRET,
    localModel: bot.stack.openai !== undefined,
    deadline: Date.now() + DEADLINE_MS,
  });
  // Distribution mode: a second local bot, installed into two workspaces through OAuth.
  printer.log('');
  printer.log(s.bold('Distribution mode: installing into two workspaces through the OAuth redirect flow'));
  const distribution = await runDistributionDemo();
  for (const line of distribution.lines) printer.log(`  ${line}`);
  problems.push(...distribution.problems);
  const dlq = bot.stack.sqs.countMessages(bot.stack.queue.dlqName);
  const deadLettered = dlq.ready + dlq.inflight + dlq.delayed;
  if (deadLettered > 0) problems.push(`${deadLettered} job(s) in the dead-letter queue`);
  const summary = summarise(results, problems, performance.now() - began);
  replaying = false;
  printSummary(results, summary);

  if (values.serve) {
    // The printer stays: answers to whatever is sent next show here too.
    printServing(bot);
    await signal;
    console.log('\nstopping…');
  }
  printer.stop();
  tracker.stop();
  await bot.close();
  return summary.ok ? 0 : 1;
}

function summarise(results: EventResult[], problems: string[], wallMs: number) {
  const first = results.flatMap((r) => (r.firstTextMs === undefined ? [] : [r.firstTextMs]));
  const full = results.flatMap((r) => (r.fullAnswerMs === undefined ? [] : [r.fullAnswerMs]));
  const failures = [...results.flatMap((r) => r.problems.map((p) => `${r.file}: ${p}`)), ...problems];
  const round = (n: number | undefined) => (n === undefined ? null : Math.round(n));
  return {
    ok: failures.length === 0,
    events: results.length,
    expectedReplies: results.filter((r) => r.expect === 'reply').length,
    replies: results.reduce((sum, r) => sum + r.replies, 0),
    answeredOnce: results.filter((r) => r.expect === 'reply' && r.replies === 1 && r.problems.length === 0)
      .length,
    firstTextMs: { median: round(median(first)), max: round(Math.max(...first)) },
    fullAnswerMs: { median: round(median(full)), max: round(Math.max(...full)) },
    failures,
    wallMs: Math.round(wallMs),
    perEvent: results.map((r) => ({
      file: r.file,
      expect: r.expect,
      status: r.status ?? null,
      replies: r.replies,
      firstTextMs: round(r.firstTextMs),
      fullAnswerMs: round(r.fullAnswerMs),
      problems: r.problems,
    })),
  };
}

function printSummary(results: EventResult[], summary: ReturnType<typeof summarise>): void {
  const s = styleFor(process.stdout);
  const verdict = (r: EventResult) => {
    if (r.problems.length > 0) return s.red(r.problems.join('; '));
    if (r.expect === 'reply') return s.green('one complete reply');
    if (r.expect === 'challenge') return s.green('challenge echoed');
    if (r.expect === 'prompts') return s.green('suggested prompts set, no message');
    return s.green('no reply, as expected');
  };
  console.log('');
  console.log(s.bold('Summary'));
  console.log(
    `  ${'event'.padEnd(34)} ${'HTTP'.padEnd(5)} ${'first text'.padEnd(11)} ${'complete'.padEnd(9)} result`,
  );
  for (const r of results) {
    const status = String(r.status ?? '–').padEnd(5);
    const first = formatMs(r.firstTextMs).padEnd(11);
    const full = formatMs(r.fullAnswerMs).padEnd(9);
    console.log(`  ${r.file.padEnd(34)} ${status} ${first} ${full} ${verdict(r)}`);
  }
  console.log('');
  console.log(
    `  ${summary.events} events sent, ${summary.replies} replies (${summary.expectedReplies} expected), ` +
      `time to first text median ${formatMs(summary.firstTextMs.median ?? undefined)}, ` +
      `to the complete answer median ${formatMs(summary.fullAnswerMs.median ?? undefined)}, ` +
      `in ${formatMs(summary.wallMs)}`,
  );
  if (summary.ok) console.log(s.green(s.bold('  All events did what events/expectations.json says.')));
  else {
    console.log(s.red(s.bold(`  ${summary.failures.length} failure(s):`)));
    for (const failure of summary.failures) console.log(s.red(`    ${failure}`));
    console.log('  npm start -- --logs shows what the handlers logged.');
  }
  console.log(`summary ${JSON.stringify(summary)}`);
}

function printServing(bot: LocalBot): void {
  const s = styleFor(process.stdout);
  const e = bot.env;
  const invokeEnv = [
    `SLACK_BOT_TOKEN=${e.SLACK_BOT_TOKEN}`,
    `SLACK_API_URL=${e.SLACK_API_URL}`,
    `SLACK_BOT_USER_ID=${e.SLACK_BOT_USER_ID}`,
    ...(e.OPENAI_BASE_URL ? [`OPENAI_BASE_URL=${e.OPENAI_BASE_URL}`] : []),
    `OPENAI_API_KEY=${e.OPENAI_BASE_URL && bot.stack.openai ? e.OPENAI_API_KEY : '$OPENAI_API_KEY'}`,
    ...(e.MOMENTO_LOCAL_ENDPOINT
      ? [`MOMENTO_LOCAL_ENDPOINT=${e.MOMENTO_LOCAL_ENDPOINT}`, 'MOMENTO_API_KEY=local']
      : ['MOMENTO_API_KEY=$MOMENTO_API_KEY']),
    'SLACK_SIGNING_SECRET=unused',
  ];
  console.log('');
  console.log(s.bold('Serving: the bot keeps running. Ctrl-C stops everything.'));
  console.log(`  ingress (local Function URL)  ${s.cyan(bot.ingressUrl!)}`);
  console.log('');
  console.log('  Send more events (another terminal):');
  console.log(
    `    SLACK_SIGNING_SECRET=${LOCAL_SIGNING_SECRET} npm run replay -- events/direct-message.json --url ${bot.ingressUrl}`,
  );
  console.log('');
  console.log('  Run the worker on an SQS event with the Serverless Framework (another terminal):');
  console.log(`    export ${invokeEnv.join(' ')}`);
  console.log('    npx serverless invoke local -f worker -p events/sqs/mention-in-channel.json');
  console.log(
    s.dim(
      "    (osls asks CloudFormation for the worker's QUEUE_URL: AWS credentials and a deployed stack needed)",
    ),
  );
  console.log('');
  console.log('  Answers appear here as they stream in.');
}

runCli(main);
