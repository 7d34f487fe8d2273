import { performance } from 'node:perf_hooks';
import { mention } from '../test/support/slack-events';
import type { LocalBot } from './local-bot';

/** One mention's way to its placeholder (figure 6), ms. */
export interface PipelineRun {
  /** Signed POST sent → placeholder's `chat.postMessage` at the Slack peer, minus the queue wait. */
  overheadMs: number;
  /** POST sent → ingress answered. */
  ingressMs: number;
  /** Worker's receive started → placeholder at the Slack peer (receive, claim, post). */
  workerMs: number;
}

/**
 * Posts a signed mention to the local ingress and, as soon as it answered, runs one turn of the
 * event source mapping, `runs` times after one warm-up. The time the message spends waiting for a
 * poller (AWS's side, seconds apart from ours) is measured and taken out.
 */
export async function measurePipeline(bot: LocalBot, runs: number): Promise<PipelineRun[]> {
  const { slack, openai } = bot.stack;
  openai!.setAnswer('ok');
  openai!.setTokenDelay(0);
  const measured: PipelineRun[] = [];
  for (let i = 0; i <= runs; i++) {
    const body = mention();
    const threadTs = (body.event as { ts: string }).ts;
    const callsBefore = slack.calls.length;
    const posted = await bot.post(body);
    const pollStartedAt = performance.now();
    const result = await bot.deliver();
    if (posted.status !== 200 || !result) throw new Error(`mention not delivered (${posted.status})`);
    const placeholder = slack.calls
      .slice(callsBefore)
      .find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === threadTs);
    if (!placeholder) throw new Error('no placeholder was posted');
    if (i === 0) continue; // warm-up: first connections to each peer
    const queueWait = pollStartedAt - posted.endedAt;
    measured.push({
      overheadMs: placeholder.at - posted.startedAt - queueWait,
      ingressMs: posted.endedAt - posted.startedAt,
      workerMs: placeholder.at - pollStartedAt,
    });
  }
  return measured;
}
