import { toMrkdwn } from '../lib/slack/mrkdwn';
import { PLACEHOLDER } from '../lib/worker/notices';
import { BOT_USER, mention } from '../test/support/slack-events';
import type { LocalBot } from './local-bot';
import type { Figure } from './report';
import { maxInWindow, median } from './stats';

/** What one streamed answer looked like from Slack's side (figures 4 and 5). */
export interface StreamingRun {
  /** How the answer was shown. */
  path: 'native' | 'edit';
  /** First token leaving the OpenAI peer → first Slack call showing text, ms. */
  firstTextMs: number;
  /** Writes after the first text to the reply: `chat.update` (edit) or `chat.appendStream` (native). */
  updates: number;
  /** Most of those writes to the reply within any 1-second window. */
  maxUpdatesPerSecond: number;
  /** Every Slack call the answer made (status, post or start, updates or appends, stop). */
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
 * (`at`, `performance.now()`) against the OpenAI peer's `firstTokenAt`. Works for both paths: the
 * edit path posts a placeholder and edits it; the native path starts a stream and appends to it.
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
    const start = calls.find((c) => c.method === 'chat.startStream');
    const path = start ? 'native' : 'edit';
    const created = start ?? calls.find((c) => c.method === 'chat.postMessage');
    const ts = created?.response.ts;
    const writes = calls.filter(
      (c) => (c.method === 'chat.update' || c.method === 'chat.appendStream') && c.args.ts === ts,
    );
    const firstText =
      start ?? writes.find((u) => u.args.text !== PLACEHOLDER && String(u.args.text).trim() !== '');
    const replies = slack.thread(event.channel, event.ts).filter((m) => m.user === slack.botUserId);
    runs.push({
      path,
      firstTextMs: (firstText?.at ?? Number.NaN) - request.firstTokenAt!,
      updates: writes.length,
      maxUpdatesPerSecond: maxInWindow(
        writes.map((u) => u.at),
        1000,
      ),
      slackCalls: calls.length,
      streamSeconds: (request.finishedAt! - request.firstTokenAt!) / 1000,
      finalTextComplete:
        replies.length === 1 && replies[0]!.text === (path === 'native' ? answer : toMrkdwn(answer)),
    });
  }
  return runs;
}

/** The interval between two writes to one reply on each path, as deployed (ms). */
const INTERVAL_MS = { edit: 1_000, native: 600 };

/**
 * Figures 4 and 5 for one path, side by side in the report: first visible text, writes per answer,
 * most writes in any second, Slack calls per answer and complete final texts. The edit path keeps
 * the names earlier runs used; the native path's are prefixed `native_`.
 */
export function streamingFigures(path: 'edit' | 'native', runs: StreamingRun[]): Figure[] {
  const prefix = path === 'native' ? 'native_' : '';
  const write = path === 'native' ? 'chat.appendStream' : 'chat.update';
  const firstText = median(runs.map((s) => s.firstTextMs));
  const seconds = median(runs.map((s) => s.streamSeconds));
  const updates = median(runs.map((s) => s.updates));
  const allowed = Math.ceil((seconds * 1000) / INTERVAL_MS[path]) + 1;
  const perSecond = Math.ceil(1000 / INTERVAL_MS[path]);
  const maxRate = Math.max(...runs.map((s) => s.maxUpdatesPerSecond));
  const complete = runs.filter((s) => s.finalTextComplete).length;
  return [
    {
      figure: 4,
      name: `${prefix}first_visible_text`,
      value: firstText,
      unit: 'ms',
      target: '<=50',
      pass: firstText <= 50,
      detail: `${path}: first token leaving the OpenAI peer → first Slack call showing text`,
    },
    {
      figure: 5,
      name: `${prefix}answer_update_calls`,
      value: updates,
      unit: 'calls',
      target: `<=${allowed}`,
      pass: updates <= allowed,
      detail: `${path}: ${write} per answer over a ${seconds.toFixed(1)} s stream (one per ${INTERVAL_MS[path]} ms + the final)`,
    },
    {
      figure: 5,
      name: `${prefix}answer_max_updates_in_1s`,
      value: maxRate,
      unit: 'calls',
      target: `<=${perSecond}`,
      pass: maxRate <= perSecond,
      detail: `${path}: most ${write} calls on one message in any 1-second window, as the Slack peer received them`,
    },
    {
      figure: 5,
      name: `${prefix}slack_calls_per_answer`,
      value: median(runs.map((s) => s.slackCalls)),
      unit: 'calls',
      target: `<=${allowed + 3}`,
      pass: median(runs.map((s) => s.slackCalls)) <= allowed + 3,
      detail: `${path}: every Slack call of one answer (status or placeholder, start, writes, stop)`,
    },
    {
      figure: 5,
      name: `${prefix}answer_final_text_complete`,
      value: `${complete}/${runs.length}`,
      unit: 'answers',
      target: `=${runs.length}/${runs.length}`,
      pass: complete === runs.length,
      detail: `${path}: one reply whose final text is the whole answer`,
    },
  ];
}
