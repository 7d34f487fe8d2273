import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { LOCAL_SIGNING_SECRET, type LocalStack, startLocalStack } from '../sandbox/local-stack';
import { LOCAL_AWS_CREDENTIALS } from '../sandbox/peers/sqs-peer';
import { toSqsEvent } from '../sandbox/sqs-event';
import { BOT_USER, functionUrlEvent, mention } from '../test/support/slack-events';
import { LAMBDA_NODE_OPTIONS } from './cold-init';

const run = promisify(execFile);

/**
 * The child's program: note the wall clock, `require` the bundle (Lambda's init), then invoke its
 * handler with each event in turn, noting when each invocation started and ended. Wall-clock times
 * (`performance.timeOrigin + performance.now()`) so that the parent can set them against the
 * moments its Slack peer received calls.
 */
const CHILD = `
const fs = require('node:fs');
const wall = () => performance.timeOrigin + performance.now();
const [file, eventsFile, resultFile] = process.argv.slice(1);
const requireStart = wall();
const { handler } = require(file);
const requireEnd = wall();
const context = (n) => {
  const deadline = Date.now() + 120000;
  return { functionName: 'bench', awsRequestId: 'cold-path-' + n, callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
};
(async () => {
  const invocations = [];
  for (const [n, event] of JSON.parse(fs.readFileSync(eventsFile, 'utf8')).entries()) {
    const start = wall();
    const result = await handler(event, context(n));
    invocations.push({ start, end: wall(), result });
  }
  fs.writeFileSync(resultFile, JSON.stringify({ requireStart, requireEnd, invocations }));
  process.exit(0);
})().catch((error) => { console.error(error); process.exit(1); });
`;

interface ChildRun {
  requireStart: number;
  requireEnd: number;
  invocations: Array<{ start: number; end: number; result: unknown }>;
}

async function runChild(file: string, env: Record<string, string>, events: unknown[]): Promise<ChildRun> {
  const eventsFile = path.join(path.dirname(file), `events-${process.pid}.json`);
  const resultFile = `${eventsFile}.result`;
  writeFileSync(eventsFile, JSON.stringify(events));
  try {
    await run(process.execPath, ['-e', CHILD, file, eventsFile, resultFile], {
      cwd: path.dirname(file),
      env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: LAMBDA_NODE_OPTIONS, NODE_NO_WARNINGS: '1', ...env },
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(readFileSync(resultFile, 'utf8')) as ChildRun;
  } finally {
    rmSync(eventsFile, { force: true });
    rmSync(resultFile, { force: true });
  }
}

/** One cold start of both functions, then one warm invocation of each. Milliseconds. */
export interface ColdPathRun {
  /** Ingress `require` + handling the signed POST, both cold. */
  ingressColdMs: number;
  ingressWarmMs: number;
  /** Worker `require` (init). */
  workerInitMs: number;
  /** Worker invocation start → first visible feedback at the Slack peer, first (cold) invocation. */
  workerFirstFeedbackMs: number;
  workerWarmFeedbackMs: number;
  /** The Slack method that showed it (`assistant.threads.setStatus`, `chat.postMessage`). */
  feedbackMethod: string;
}

/** Methods whose call is the first thing a user sees of an answer. */
const FEEDBACK = new Set(['assistant.threads.setStatus', 'chat.postMessage', 'chat.startStream']);

/**
 * Mention → first visible feedback, from the signed POST, with both functions cold and then warm:
 * the ingress bundle in a fresh process handles two signed mentions (cold, warm) and queues them on
 * the local SQS; the worker bundle in another fresh process answers both jobs (cold, warm) against
 * the local Slack, OpenAI and Momento peers. The queue's own wait (AWS's poller) is not counted.
 * `workers` lists worker bundles to compare (e.g. this one and a baseline), interleaved per round.
 */
export async function measureColdPath(
  ingressFile: string,
  workers: Array<{ name: string; file: string }>,
  rounds: number,
): Promise<Record<string, ColdPathRun[]>> {
  const stack = await startLocalStack({ tokenDelayMs: 0 });
  stack.openai!.setAnswer('A short answer: the figure ends at the first visible feedback.');
  const out: Record<string, ColdPathRun[]> = Object.fromEntries(workers.map((w) => [w.name, []]));
  const seen: Array<{ method: string; thread: string; wall: number }> = [];
  stack.slack.on('call', (call) => {
    const thread = call.args.thread_ts;
    if (FEEDBACK.has(call.method) && typeof thread === 'string')
      seen.push({ method: call.method, thread, wall: performance.timeOrigin + performance.now() });
  });
  try {
    // A first round creates the Momento cache (a fresh local peer has none; a deployed one has).
    await oneColdPath(stack, ingressFile, workers[0]!.file, seen);
    for (let round = 0; round < rounds; round++) {
      for (const worker of workers)
        out[worker.name]!.push(await oneColdPath(stack, ingressFile, worker.file, seen));
    }
  } finally {
    await stack.close();
  }
  return out;
}

let workspaces = 0;

async function oneColdPath(
  stack: LocalStack,
  ingressFile: string,
  workerFile: string,
  seen: Array<{ method: string; thread: string; wall: number }>,
): Promise<ColdPathRun> {
  // Each mention in a workspace of its own: the rounds follow each other faster than Slack's Tier 2
  // allows streams to start in one workspace, and the write budget would (rightly) pace them.
  const bodies = [0, 1].map(() => {
    const body = mention({ text: `<@${BOT_USER}> cold path` }) as Record<string, unknown> & {
      event: { channel: string; ts: string; user: string; text: string };
      event_id: string;
    };
    body.team_id = `TCOLD${++workspaces}`;
    return body;
  });
  for (const body of bodies) {
    const e = body.event as { channel: string; ts: string; user: string; text: string };
    stack.slack.seedMessage({ channel: e.channel, ts: e.ts, user: e.user, text: e.text });
  }
  const ingress = await runChild(
    ingressFile,
    {
      SLACK_SIGNING_SECRET: LOCAL_SIGNING_SECRET,
      SLACK_BOT_USER_ID: stack.env.SLACK_BOT_USER_ID!,
      QUEUE_URL: stack.queue.queueUrl,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: stack.env.AWS_ENDPOINT_URL_SQS!,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    },
    bodies.map((b) => functionUrlEvent(b, { secret: LOCAL_SIGNING_SECRET })),
  );
  const sqs = stack.sqs.client();
  const { Messages: received = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.queue.queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  if (received.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: stack.queue.queueUrl,
        Entries: received.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  sqs.destroy();
  const ids = bodies.map((b) => (b as { event_id: string }).event_id);
  const Messages = ids.map((id) => received.find((m) => m.Body?.includes(`"eventId":"${id}"`)));
  if (Messages.some((m) => !m)) throw new Error('the ingress did not queue both mentions');
  const { SLACK_SIGNING_SECRET: _s, ...workerEnv } = stack.env;
  const worker = await runChild(
    workerFile,
    workerEnv,
    (Messages as Message[]).map((m) => toSqsEvent([m], stack.queue.queueArn)),
  );
  const feedback = bodies.map((b) => {
    const ts = (b.event as { ts: string }).ts;
    const first = seen.find((s) => s.thread === ts);
    if (!first) throw new Error('no visible feedback for a cold-path mention');
    return first;
  });
  const [i1, i2] = ingress.invocations;
  const [w1, w2] = worker.invocations;
  return {
    ingressColdMs: i1!.end - ingress.requireStart,
    ingressWarmMs: i2!.end - i2!.start,
    workerInitMs: worker.requireEnd - worker.requireStart,
    workerFirstFeedbackMs: feedback[0]!.wall - w1!.start,
    workerWarmFeedbackMs: feedback[1]!.wall - w2!.start,
    feedbackMethod: feedback[0]!.method,
  };
}
