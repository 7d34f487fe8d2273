import { AnswerTracker } from './answer-tracker';
import { parseCli, runCli, UsageError, untilSignal, wholeNumber } from './cli';
import { type EventFile, EventFileError, readEventFiles, threadOf } from './event-files';
import { LOCAL_SIGNING_SECRET } from './local-stack';
import { type ReplayedRequest, replayRequests } from './replay-requests';
import { EventRestamper } from './restamp-event';
import { type LocalBot, startLocalBot } from './run-local';
import { UnreachableUrlError } from './slack-request';
import { formatMs, median, percentile, styleFor } from './terminal';
import { ThreadPrinter } from './thread-printer';

/**
 * `npm run replay -- <file|dir>… [--url URL]`: sends saved Slack payloads, re-signed with the
 * current timestamp, to a deployed Function URL (`--url`, signing with `SLACK_SIGNING_SECRET`) or,
 * without `--url`, to the bot started here on local peers, whose answers are printed. Prints the
 * status and latency of each request, a summary, and a last line `summary {json}`.
 */

const USAGE = `usage: npm run replay -- <file|dir>... [--url URL] [--retry N] [--repeat N] [--concurrency C]

  <file|dir>       Slack payloads (*.json); a directory sends its files in name order
  --url URL        a deployed Function URL (signed with SLACK_SIGNING_SECRET from the
                   environment or .env); without it, the bot runs here on local peers
  --retry N        send each event N more times as Slack's retries (x-slack-retry-num 1..N)
  --repeat N       send every file N times, each time as a new event (fresh event_id)
  --concurrency C  events in flight at once (default 1: in order)
  --keep-ids       send the event_id in the file instead of a fresh one
  --no-env-file    do not read .env`;

async function main(): Promise<number> {
  const cli = parseCli(
    {
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        retry: { type: 'string' },
        repeat: { type: 'string' },
        concurrency: { type: 'string' },
        'keep-ids': { type: 'boolean' },
      },
    },
    USAGE,
  );
  if (!cli) return 0;
  const { values, positionals } = cli;
  if (positionals.length === 0) throw new UsageError(`name at least one event file or directory\n\n${USAGE}`);
  const retries = wholeNumber('retry', values.retry, 0);
  const repeat = wholeNumber('repeat', values.repeat, 1, 1);
  const concurrency = wholeNumber('concurrency', values.concurrency, 1, 1);

  let files: EventFile[];
  try {
    ({ files } = await readEventFiles(positionals));
  } catch (error) {
    if (error instanceof EventFileError) throw new UsageError(error.message, { cause: error });
    throw error;
  }

  let url = values.url;
  let secret = LOCAL_SIGNING_SECRET;
  if (url !== undefined) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
      throw new UsageError(`--url must be an http(s) URL, not "${url}"`);
    secret = process.env.SLACK_SIGNING_SECRET?.trim() ?? '';
    if (!secret) {
      throw new UsageError(
        'SLACK_SIGNING_SECRET is not set: replay signs each payload as Slack does, with the secret the ' +
          'ingress checks. Set it in the environment or .env (Slack app → Basic Information → Signing ' +
          `Secret; for npm start -- --serve it is ${LOCAL_SIGNING_SECRET}).`,
      );
    }
  }

  const s = styleFor(process.stdout);
  let bot: LocalBot | undefined;
  let tracker: AnswerTracker | undefined;
  let printer: ThreadPrinter | undefined;
  if (url === undefined) {
    bot = await startLocalBot({ logLevel: 'WARN' });
    url = bot.ingressUrl!;
    tracker = new AnswerTracker(bot.stack.slack, bot);
    const t = tracker;
    printer = new ThreadPrinter(bot.stack.slack, {
      describe: (channel, threadTs) => ({ title: t.latest(channel, threadTs)?.label ?? '' }),
    });
    const local = bot;
    void untilSignal().then(async () => {
      await local.close();
      process.exit(130);
    });
    console.log(s.dim(`(no --url: replaying to the bot on local peers at ${url})`));
  }
  const log = (line: string) => (printer ? printer.log(line) : console.log(line));

  const eventIds: string[] = [];
  let requests: ReplayedRequest[] = [];
  const problems: string[] = [];
  try {
    requests = await replayRequests({
      url,
      secret,
      files,
      restamper: values['keep-ids'] ? undefined : new EventRestamper({ ts: false }),
      retries,
      repeat,
      concurrency,
      beforeSend: (file, body) => {
        const thread = threadOf(body);
        const eventId = String(body.event_id ?? '');
        if (
          !tracker ||
          !thread ||
          !eventId ||
          tracker.latest(thread.channel, thread.threadTs)?.eventId === eventId
        )
          return;
        eventIds.push(eventId);
        tracker.track(file.name, eventId, thread.channel, thread.threadTs);
      },
      onRequest: (r) => {
        const status = r.status < 300 ? s.green(String(r.status)) : s.red(String(r.status));
        const what = `${r.file}${repeat > 1 ? ` #${r.round}` : ''}${r.retryNum ? ` (retry ${r.retryNum})` : ''}`;
        const body = r.body ? s.dim(` ${r.body.length > 60 ? `${r.body.slice(0, 60)}…` : r.body}`) : '';
        log(`${status} ${formatMs(r.ms).padStart(8)}  ${what}${body}`);
      },
    });
  } catch (error) {
    if (!(error instanceof UnreachableUrlError)) throw error;
    problems.push(error.message);
    console.error(
      s.red(
        `error: ${error.message}. Is the URL right and the bot deployed (or npm start -- --serve running)?`,
      ),
    );
  }
  for (const r of requests) {
    if (r.status >= 300) problems.push(`${r.file}: HTTP ${r.status} ${r.body}`);
  }

  let replies: number | undefined;
  let answered: number | undefined;
  if (bot && tracker && problems.length === 0) {
    try {
      await bot.idle(60_000);
    } catch (error) {
      problems.push((error as Error).message);
    }
    const answers = eventIds.map((id) => tracker.whenDone(id, 0).catch(() => undefined));
    const done = (await Promise.all(answers)).filter((a) => a !== undefined);
    replies = done.reduce((sum, a) => sum + a.replies, 0);
    answered = done.length;
    for (const a of done) {
      if (a.failedAttempts > 0)
        problems.push(`${a.label}: the worker failed ${a.failedAttempts} time(s) first`);
    }
  }
  printer?.stop();
  tracker?.stop();
  await bot?.close();

  const ms = requests.map((r) => r.ms);
  const statuses: Record<string, number> = {};
  for (const r of requests) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const summary = {
    ok: problems.length === 0,
    url: values.url ?? 'local',
    requests: requests.length,
    statuses,
    latencyMs: {
      median: round(median(ms)),
      p95: round(percentile(ms, 95)),
      max: round(ms.length ? Math.max(...ms) : undefined),
    },
    ...(replies === undefined ? {} : { eventsAnswered: answered, replies }),
    failures: problems,
  };
  const counts = Object.entries(statuses).map(([code, n]) => `${n} × HTTP ${code}`);
  console.log('');
  console.log(
    `${s.bold('Summary')}  ${plural(summary.requests, 'request')}${counts.length ? ` (${counts.join(', ')})` : ''}` +
      (ms.length ? `, latency median ${formatMs(median(ms))}, p95 ${formatMs(percentile(ms, 95))}` : '') +
      (replies === undefined
        ? ''
        : `; ${plural(answered ?? 0, 'event')} answered, ${plural(replies, 'reply', 'replies')}`),
  );
  for (const problem of problems) console.log(s.red(`  ${problem}`));
  console.log(`summary ${JSON.stringify(summary)}`);
  return summary.ok ? 0 : 1;
}

const round = (n: number | undefined) => (n === undefined ? null : Math.round(n));
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

runCli(main);
