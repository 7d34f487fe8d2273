import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { createMetrics } from '../lib/metrics';
import type { AnswerJob } from '../lib/queue/job';
import { sqsJobQueue } from '../lib/queue/sqs-job-queue';
import type { ReplyOpener } from '../lib/reply/open-reply';
import { REPLY_EVENT_TYPE } from '../lib/reply/slack-reply-api';
import { toMrkdwn } from '../lib/slack/mrkdwn';
import { observedReply } from '../lib/worker/observers';
import { buildWorkerDeps } from '../lib/worker/worker-deps';
import { createWorkerHandler } from '../lib/worker/worker-handler';
import { lambdaContext } from '../sandbox/lambda-context';
import { startEventSourceMapping } from '../sandbox/local-event-source';
import { startLocalStack } from '../sandbox/local-stack';
import { SLACK_TIERS } from './scale';
import { answerOfTokens } from './streaming';

/**
 * A busy workspace as a company uses it: many people ask the bot at once in one channel and follow
 * up in their threads, or ask steadily all morning. The real worker runs behind a local SQS FIFO
 * event source mapping (one message group per thread, `maximumConcurrency` pollers per workspace,
 * as deployed), against a Slack peer that answers 429 beyond Slack's documented tiers over any
 * sliding 60 s (chat.postMessage per channel), with the shared write budget on.
 */

/** The channel of workspace `w` (`CW03` is in `TW03`), for the peer's per-workspace counting. */
const channelOf = (w: number) => `CW${String(w).padStart(2, '0')}`;
const teamOfChannel = (channel: string) => `T${channel.slice(1, 5)}`;

/** What one busy run measured. */
export interface BusyRun {
  label: string;
  workspaces: number;
  questions: number;
  /** Calls Slack (the peer) answered 429, and by method. */
  rateLimited: number;
  rateLimitedBy: Record<string, number>;
  /** Questions whose thread shows exactly one reply for them, whole, in the order asked. */
  answeredWholeInOrder: number;
  /** Reply messages the bot left (a long answer's continuations counted once). */
  replies: number;
  /** Seconds from the first question to the last answer complete. */
  lastCompleteS: number;
  /** Per question: seconds from its asking to the status or placeholder shown, and to the answer complete. */
  firstFeedbackS: number[];
  completeS: number[];
  /** Seconds from the first question at which each answer was complete. */
  completedAtS: number[];
  /** Messages waiting or in flight, sampled once a second. */
  queueDepth: number[];
  /** How answers were shown: native stream, edits, or a single post. */
  paths: Record<string, number>;
  /** Slack calls answered, by method. */
  callsBy: Record<string, number>;
  /** Seconds of the model's stream per answer. */
  streamSeconds: number;
}

/** Records when each answer's reply was opened (feedback shown) and finished, and how. */
function timedOpener(
  opener: ReplyOpener,
  seen: Map<string, { openedAt?: number; finishedAt?: number; path?: string }>,
) {
  const timed: ReplyOpener = {
    async open(target, resume, context) {
      const reply = await opener.open(target, resume, context);
      const entry = seen.get(target.eventId) ?? {};
      seen.set(target.eventId, entry);
      return observedReply(reply, {
        opened: () => {
          entry.openedAt ??= performance.now();
        },
        // An answer complete before its first write shows nothing before its post.
        finishing: () => {
          entry.openedAt ??= performance.now();
        },
        finished: () => {
          entry.finishedAt = performance.now();
          const single = reply.path === 'edit' && reply.messageTs.length === 1 && reply.writes === 1;
          entry.path = single ? 'single post' : reply.path;
        },
      });
    },
  };
  return timed;
}

/**
 * Asks `threads × perThread` questions in each of `workspaces` workspaces (one channel each), spread
 * over `askOverMs` (follow-ups after their thread's first question), and waits until every one is
 * answered or `timeoutMs` passes.
 */
export async function measureBusy(options: {
  label: string;
  workspaces: number;
  threads: number;
  perThread: number;
  tokens: number;
  tokenDelayMs: number;
  askOverMs: number;
  /** Worker invocations at once per workspace (`maximumConcurrency` in serverless.yml). */
  concurrencyPerWorkspace: number;
  timeoutMs: number;
  /** The anchor: a Slack without limits and no write budget, so only the machine bounds the run. */
  unlimited?: boolean;
}): Promise<BusyRun> {
  const stack = await startLocalStack({
    tokenDelayMs: options.tokenDelayMs,
    env: { SLACK_STREAMING: 'auto', SLACK_WRITE_BUDGET: options.unlimited ? 'off' : 'shared' },
    slackLimits: options.unlimited ? {} : { rateLimits: SLACK_TIERS, teamOfChannel },
  });
  const logger = new Logger({
    serviceName: 'bench-busy',
    logLevel: (process.env.BENCH_LOG_LEVEL as 'SILENT' | undefined) ?? 'SILENT',
  });
  const answer = answerOfTokens(options.tokens);
  stack.openai!.setAnswer(answer);
  const seen = new Map<string, { openedAt?: number; finishedAt?: number; path?: string }>();
  const queue = stack.sqs.createFifoQueue(`busy-${Date.now()}`, { maxReceiveCount: 5 });
  const lambdas: Array<ReturnType<typeof buildWorkerDeps>> = [];
  const mappings: Array<{ stop(): Promise<void> }> = [];
  try {
    // The questions, in the order they are asked.
    const jobs: Array<AnswerJob & { askAtMs: number }> = [];
    const total = options.workspaces * options.threads * options.perThread;
    let k = 0;
    for (let q = 0; q < options.perThread; q++) {
      for (let t = 0; t < options.threads; t++) {
        for (let w = 1; w <= options.workspaces; w++) {
          const channel = channelOf(w);
          const threadTs = `1700005${String(t).padStart(3, '0')}.${String(w).padStart(3, '0')}000`;
          const ts =
            q === 0
              ? threadTs
              : `1700005${String(t).padStart(3, '0')}.${String(w).padStart(3, '0')}${String(q).padStart(3, '0')}`;
          jobs.push({
            v: 1,
            eventId: `EvBUSY${w}T${t}Q${q}`,
            teamId: teamOfChannel(channel),
            channel,
            threadTs,
            ts,
            user: `U0ASKER${t}`,
            text: `<@${stack.slack.botUserId}> question ${q + 1} of thread ${t}`,
            isDm: false,
            receivedAt: 0,
            askAtMs: ((k++ * options.askOverMs) / total) | 0,
          });
        }
      }
    }
    for (const j of jobs) {
      stack.slack.seedMessage({
        channel: j.channel,
        ts: j.ts,
        ...(j.ts !== j.threadTs ? { thread_ts: j.threadTs } : {}),
        user: j.user,
        text: j.text,
      });
    }
    // The Lambdas: one set of clients per invocation slot, as separate instances have.
    const base = { ...stack.workerConfig, queue: { ...stack.workerConfig.queue, url: queue.queueUrl } };
    const concurrency = options.concurrencyPerWorkspace * options.workspaces;
    const t0 = performance.now();
    const enqueue = sqsJobQueue(stack.sqs.client(), queue.queueUrl);
    const asked = (async () => {
      for (const j of jobs) {
        const wait = j.askAtMs - (performance.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const { askAtMs: _, ...job } = j;
        await enqueue.enqueue({ ...job, receivedAt: Date.now() });
      }
    })();
    for (let i = 0; i < concurrency; i++) {
      const deps = buildWorkerDeps(base, logger, {
        sqs: stack.sqs.client(),
        // EMF lines are log output for CloudWatch; here they would only flood the bench's output.
        metrics: createMetrics('bench', 'slack-worker', { write: () => undefined }),
      });
      lambdas.push(deps);
      const handler = createWorkerHandler({ ...deps, replies: timedOpener(deps.replies, seen) });
      mappings.push(
        startEventSourceMapping(stack.sqs.client(), queue, handler, {
          context: () => lambdaContext('worker', 120_000),
          pollers: 1,
          waitSeconds: 1,
        }),
      );
    }
    const queueDepth: number[] = [];
    const done = () => [...seen.values()].filter((s) => s.finishedAt !== undefined).length;
    while (performance.now() - t0 < options.timeoutMs) {
      await new Promise((r) => setTimeout(r, 1_000));
      const q = stack.sqs.server.inspectQueue(queue.queueName)!.messages;
      queueDepth.push(q.ready.length + q.delayed.length + q.inflight.length);
      if (done() === total && queueDepth.at(-1) === 0) break;
    }
    await asked;
    await Promise.all(mappings.map((m) => m.stop()));

    // What the threads show: one reply per question, whole, in the order asked.
    const texts = [answer, toMrkdwn(answer)].map((t) => t.replace(/\s+/g, ''));
    let answeredWholeInOrder = 0;
    let replies = 0;
    const threads = new Map<string, Array<AnswerJob & { askAtMs: number }>>();
    for (const j of jobs)
      threads.set(`${j.channel}/${j.threadTs}`, [...(threads.get(`${j.channel}/${j.threadTs}`) ?? []), j]);
    for (const questions of threads.values()) {
      const first = questions[0]!;
      const bot = stack.slack
        .thread(first.channel, first.threadTs)
        .filter((m) => m.user === stack.slack.botUserId);
      const eventOf = (m: (typeof bot)[number]) => {
        const meta = m.metadata as { event_type?: string; event_payload?: { event_id?: string } } | undefined;
        return meta?.event_type === REPLY_EVENT_TYPE ? meta.event_payload?.event_id : undefined;
      };
      const order: string[] = [];
      for (const m of bot) {
        const id = eventOf(m);
        if (id && order.at(-1) !== id) order.push(id);
      }
      replies += order.length + bot.filter((m) => !eventOf(m)).length;
      questions.forEach((q, i) => {
        const shown = bot
          .filter((m) => eventOf(m) === q.eventId)
          .map((m) => m.text)
          .join('')
          .replace(/\s+/g, '');
        if (order[i] === q.eventId && texts.includes(shown)) answeredWholeInOrder++;
      });
    }
    const rateLimitedBy: Record<string, number> = {};
    for (const c of stack.slack.calls.filter((x) => x.status === 429))
      rateLimitedBy[c.method] = (rateLimitedBy[c.method] ?? 0) + 1;
    const callsBy: Record<string, number> = {};
    for (const c of stack.slack.calls) callsBy[c.method] = (callsBy[c.method] ?? 0) + 1;
    const paths: Record<string, number> = {};
    for (const s of seen.values()) if (s.path) paths[s.path] = (paths[s.path] ?? 0) + 1;
    const askedAt = (j: (typeof jobs)[number]) => t0 + j.askAtMs;
    const firstFeedbackS: number[] = [];
    const completeS: number[] = [];
    const completedAtS: number[] = [];
    for (const j of jobs) {
      const s = seen.get(j.eventId);
      if (s?.openedAt !== undefined) firstFeedbackS.push((s.openedAt - askedAt(j)) / 1000);
      if (s?.finishedAt !== undefined) {
        completeS.push((s.finishedAt - askedAt(j)) / 1000);
        completedAtS.push((s.finishedAt - t0) / 1000);
      }
    }
    const request = stack.openai!.requests.find(
      (r) => r.finishedAt !== undefined && r.firstTokenAt !== undefined,
    );
    return {
      label: options.label,
      workspaces: options.workspaces,
      questions: total,
      rateLimited: stack.slack.calls.filter((c) => c.status === 429).length,
      rateLimitedBy,
      answeredWholeInOrder,
      replies,
      lastCompleteS: completedAtS.length ? Math.max(...completedAtS) : Number.NaN,
      firstFeedbackS,
      completeS,
      completedAtS,
      queueDepth,
      paths,
      callsBy,
      streamSeconds: request ? (request.finishedAt! - request.firstTokenAt!) / 1000 : 0,
    };
  } finally {
    await Promise.all(mappings.map((m) => m.stop()));
    for (const deps of lambdas) deps.close();
    await stack.close();
  }
}
