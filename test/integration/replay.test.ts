import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { decodeAnswerJob as decodeJob } from '../../lib/queue/job';
import { TYPING_MARKER } from '../../lib/reply/edit-reply';
import { PLACEHOLDER } from '../../lib/worker/notices';
import { lambdaContext } from '../../sandbox/lambda-context';
import { LOCAL_SIGNING_SECRET } from '../../sandbox/local-stack';
import { listen } from '../../sandbox/peers/listen';
import { type LocalBot, startLocalBot } from '../../sandbox/run-local';
import { runToExit, shellEnv } from '../support/run-command';
import { waitFor } from '../support/wait-for';

/**
 * `npm run replay` (sandbox/replay.ts) in its own process: against a Function URL (here the real
 * handlers run by `startLocalBot`, as `npm start -- --serve` serves them) and, without `--url`,
 * against the bot it starts itself. Also the SQS-shaped worker events of `events/sqs/`.
 */

const ROOT = resolve(__dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const MENTION = 'events/mention-in-channel.json';
const mentionEvent = JSON.parse(readFileSync(resolve(ROOT, MENTION), 'utf8')).event as {
  channel: string;
  ts: string;
};

interface ReplaySummary {
  ok: boolean;
  requests: number;
  statuses: Record<string, number>;
  eventsAnswered?: number;
  replies?: number;
  failures: string[];
}

/** Runs the replay CLI with only `env` (and PATH, HOME) set; resolves with its exit code and output. */
function replay(args: string[], env: Record<string, string> = {}) {
  return runToExit<ReplaySummary>(TSX, ['sandbox/replay.ts', ...args, '--no-env-file'], {
    cwd: ROOT,
    env: shellEnv(env),
  });
}

let bot: LocalBot;
const jobs: string[] = [];

beforeAll(async () => {
  bot = await startLocalBot({ logLevel: 'SILENT', tokenDelayMs: 5 });
  bot.onJob((outcome) => {
    if (outcome.done && outcome.eventId) jobs.push(outcome.eventId);
  });
});
afterAll(() => bot.close());
beforeEach(() => {
  bot.stack.slack.reset();
  jobs.length = 0;
});

const botReplies = (channel: string, threadTs: string) =>
  bot.stack.slack.thread(channel, threadTs).filter((m) => m.user === bot.stack.slack.botUserId);

describe('npm run replay -- <file> --url <Function URL>', () => {
  it('sends a mention and three Slack retries of it: four 200s, one job, one reply', async () => {
    // Act
    const run = await replay([MENTION, '--url', bot.ingressUrl!, '--retry', '3'], {
      SLACK_SIGNING_SECRET: LOCAL_SIGNING_SECRET,
    });
    await bot.idle(15_000);
    // Assess
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ ok: true, requests: 4, statuses: { '200': 4 } });
    expect(run.stdout).toMatch(/mention-in-channel\.json \(retry 3\)/);
    expect(jobs).toHaveLength(1);
    const replies = botReplies(mentionEvent.channel, mentionEvent.ts);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain('You said: "What is an SQS FIFO queue, in two sentences?"');
  });

  it('sends each repetition as a new event: --repeat 2 gives two replies in the thread', async () => {
    // Act
    const run = await replay([MENTION, '--url', bot.ingressUrl!, '--repeat', '2'], {
      SLACK_SIGNING_SECRET: LOCAL_SIGNING_SECRET,
    });
    await bot.idle(15_000);
    // Both events are in one thread, so answered one after the other: wait for the second.
    await waitFor('both answers', () => new Set(jobs).size >= 2 || undefined, 30_000).catch(() => undefined);
    // Assess
    expect(run.code).toBe(0);
    expect(new Set(jobs).size).toBe(2);
    expect(botReplies(mentionEvent.channel, mentionEvent.ts)).toHaveLength(2);
  });

  it('fails with the status when the signature is refused (wrong secret)', async () => {
    // Act
    const run = await replay([MENTION, '--url', bot.ingressUrl!], { SLACK_SIGNING_SECRET: 'not-the-secret' });
    // Assess
    expect(run.code).toBe(1);
    expect(run.summary).toMatchObject({ ok: false, statuses: { '401': 1 } });
    expect(jobs).toHaveLength(0);
  });
});

describe('npm run replay: clear errors', () => {
  it('names SLACK_SIGNING_SECRET when it is missing', async () => {
    const run = await replay([MENTION, '--url', bot.ingressUrl!]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SLACK_SIGNING_SECRET is not set/);
  });

  it('names a file it cannot read', async () => {
    const run = await replay(['events/no-such-event.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/events\/no-such-event\.json: cannot read it \(ENOENT\)/);
  });

  it('says which URL it cannot reach', async () => {
    // Prepare: a port that was free a moment ago.
    const server = await listen((_req, res) => res.end());
    const url = `${server.origin}/`;
    await server.close();
    // Act
    const run = await replay([MENTION, '--url', url], { SLACK_SIGNING_SECRET: LOCAL_SIGNING_SECRET });
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach ${url}: ECONNREFUSED`);
  });
});

describe('npm run replay without --url', () => {
  it('runs the bot on local peers and reports one reply for an event and three retries', async () => {
    // Act: a fresh process with nothing configured.
    const run = await replay([MENTION, '--retry', '3']);
    // Assess
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ ok: true, requests: 4, eventsAnswered: 1, replies: 1, failures: [] });
  }, 30_000);
});

describe('events/sqs: worker events for serverless invoke local', () => {
  it.each(['mention-in-channel', 'direct-message-japanese'])(
    'events/sqs/%s.json is answered by handlers/worker.ts in its thread',
    async (name) => {
      // Prepare
      const event = JSON.parse(readFileSync(resolve(ROOT, `events/sqs/${name}.json`), 'utf8')) as SQSEvent;
      const job = decodeJob(event.Records[0]!.body);
      const { handler } = await import('../../handlers/worker');
      // Act
      const response = await handler(event, lambdaContext('worker', 120_000));
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      const [reply, ...more] = botReplies(job.channel, job.threadTs);
      expect(more).toEqual([]);
      expect(reply!.text).not.toBe(PLACEHOLDER);
      expect(reply!.text.endsWith(TYPING_MARKER)).toBe(false);
      expect(reply!.text).toContain(job.text.replace(/<@UBOT0LOCAL>\s*/, ''));
    },
  );
});
