import { toMrkdwn } from '../lib/slack/mrkdwn';
import { PLACEHOLDER } from '../lib/worker/answer-mention';
import { BOT_USER, mention } from '../test/support/slack-events';
import type { LocalBot } from './local-bot';
import { maxInWindow } from './stats';

/** What one streamed answer looked like from Slack's side (figures 4 and 5). */
export interface StreamingRun {
  /** First token leaving the OpenAI peer → first Slack call showing text, ms. */
  firstTextMs: number;
  /** `chat.update` calls on the reply. */
  updates: number;
  /** Most `chat.update` calls on the reply within any 1-second window. */
  maxUpdatesPerSecond: number;
  /** Every Slack call the answer made (post, updates). */
  slackCalls: number;
  /** First token → last token, seconds. */
  streamSeconds: number;
  /** The thread ends with exactly one reply whose text is the whole answer. */
  finalTextComplete: boolean;
}

/** An answer of exactly `tokens` tokens as the OpenAI peer splits text (`word12 ` is one token). */
export function answerOfTokens(tokens: number): string {
  return Array.from({ length: tokens }, (_, i) => `word${i}`).join(' ');
}

/**
 * Streams a `tokens`-token answer at `tokenDelayMs` per token into a fresh thread, `runs` times:
 * mention → ingress → queue → worker → Slack peer, and reads the Slack peer's call log
 * (`at`, `performance.now()`) against the OpenAI peer's `firstTokenAt`.
 */
export async function measureStreaming(
  bot: LocalBot,
  options: { runs: number; tokens: number; tokenDelayMs: number },
): Promise<StreamingRun[]> {
  const { slack, openai } = bot.stack;
  const answer = answerOfTokens(options.tokens);
  openai!.setAnswer(answer);
  openai!.setTokenDelay(options.tokenDelayMs);
  const runs: StreamingRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    const body = mention({ text: `<@${BOT_USER}> streaming run ${i}` });
    const event = body.event as { ts: string; channel: string };
    const callsBefore = slack.calls.length;
    const requestsBefore = openai!.requests.length;
    const posted = await bot.post(body);
    if (posted.status !== 200) throw new Error(`ingress answered ${posted.status}`);
    const result = await bot.deliver();
    if (!result || result.response.batchItemFailures.length > 0) throw new Error('the worker did not answer');
    const request = openai!.requests[requestsBefore]!;
    const calls = slack.calls.slice(callsBefore);
    const placeholder = calls.find((c) => c.method === 'chat.postMessage');
    const ts = placeholder?.response.ts;
    const updates = calls.filter((c) => c.method === 'chat.update' && c.args.ts === ts);
    const firstText = updates.find((u) => u.args.text !== PLACEHOLDER && String(u.args.text).trim() !== '');
    const replies = slack.thread(event.channel, event.ts).filter((m) => m.user === slack.botUserId);
    runs.push({
      firstTextMs: (firstText?.at ?? Number.NaN) - request.firstTokenAt!,
      updates: updates.length,
      maxUpdatesPerSecond: maxInWindow(
        updates.map((u) => u.at),
        1000,
      ),
      slackCalls: calls.length,
      streamSeconds: (request.finishedAt! - request.firstTokenAt!) / 1000,
      finalTextComplete: replies.length === 1 && replies[0]!.text === toMrkdwn(answer),
    });
  }
  return runs;
}
