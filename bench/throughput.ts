import { performance } from 'node:perf_hooks';
import { toMrkdwn } from '../lib/slack/mrkdwn';
import { startEventSourceMapping } from '../sandbox/local-event-source';
import type { ChatRequest } from '../sandbox/peers/openai-peer';
import { BOT_USER, mention } from '../test/support/slack-events';
import type { LocalBot } from './local-bot';

/** The outcome of a throughput run (figure 8). */
export interface ThroughputRun {
  mentions: number;
  threads: number;
  pollers: number;
  /** Answers completed per second, first POST → last record deleted. */
  answeredPerSecond: number;
  seconds: number;
  /** Mentions with no reply. */
  lost: number;
  /** Replies beyond one per mention (and replies to nothing asked). */
  duplicates: number;
  /** Threads whose replies are not in the order the mentions were sent. */
  outOfOrder: number;
  /** Ingress answers other than 200. */
  rejected: number;
}

const lastUserText = (request: ChatRequest): string => {
  const content = request.messages.findLast((m) => m.role === 'user')?.content;
  return typeof content === 'string' ? content : '';
};

/**
 * Sends `threads × perThread` mentions through the local ingress — each thread's first mention in
 * the channel, the rest as replies in its thread, each sent once the previous one of its thread was
 * acknowledged (so the intended order is defined) — while a local event source mapping with
 * `pollers` receive loops drives the worker. The model answers at once, quoting the question, so
 * every reply can be matched to its mention.
 */
export async function measureThroughput(
  bot: LocalBot,
  options: { threads: number; perThread: number; pollers: number; timeoutMs: number },
): Promise<ThroughputRun> {
  const { slack, openai } = bot.stack;
  openai!.setTokenDelay(0);
  openai!.setAnswer((request) => `answer ${lastUserText(request)}`);
  const total = options.threads * options.perThread;
  let deleted = 0;
  let lastDeletedAt = 0;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const mapping = startEventSourceMapping(bot.sqs, bot.stack.queue, bot.worker, {
    context: bot.context,
    pollers: options.pollers,
    batchSize: 1,
    waitSeconds: 1,
    onResult: (result) => {
      deleted += result.deleted.length;
      lastDeletedAt = performance.now();
      if (deleted >= total) allDone();
    },
    onError: (error) => console.error('bench: poll failed:', error),
  });

  const roots: Array<{ channel: string; ts: string }> = [];
  let rejected = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: options.threads }, async (_, t) => {
      for (let i = 0; i < options.perThread; i++) {
        const text = `<@${BOT_USER}> t${t} q${i}`;
        const body = i === 0 ? mention({ text }) : mention({ text, thread_ts: roots[t]!.ts });
        if (i === 0) roots[t] = body.event as { channel: string; ts: string };
        const posted = await bot.post(body);
        if (posted.status !== 200) rejected++;
      }
    }),
  );
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs).unref());
  await Promise.race([done, timeout]);
  await mapping.stop();

  let lost = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  roots.forEach((root, t) => {
    const expected = Array.from({ length: options.perThread }, (_, i) => toMrkdwn(`answer t${t} q${i}`));
    const replies = slack
      .thread(root.channel, root.ts)
      .filter((m) => m.user === slack.botUserId)
      .map((m) => m.text);
    for (const text of expected) {
      const count = replies.filter((r) => r === text).length;
      if (count === 0) lost++;
      duplicates += Math.max(0, count - 1);
    }
    duplicates += replies.filter((r) => !expected.includes(r)).length;
    if (replies.join('\n') !== expected.join('\n')) outOfOrder++;
  });
  const seconds = ((lastDeletedAt || performance.now()) - startedAt) / 1000;
  return {
    mentions: total,
    threads: options.threads,
    pollers: options.pollers,
    answeredPerSecond: (total - lost) / seconds,
    seconds,
    lost,
    duplicates,
    outOfOrder,
    rejected,
  };
}
