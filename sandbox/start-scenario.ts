import { dirname, join } from 'node:path';
import { TYPING_MARKER } from '../lib/reply/edit-reply';
import { PLACEHOLDER, RETRYING_NOTICE } from '../lib/worker/notices';
import type { AnswerTracker, TrackedAnswer } from './answer-tracker';
import { type EventFile, promptsTargetOf, threadOf } from './event-files';
import type { Expectation } from './expectations';
import type { SlackMessage } from './peers/slack-peer';
import type { EventRestamper } from './restamp-event';
import type { LocalBot } from './run-local';
import { acceptActionToken, seedBeforeEvent, serveEventFiles, withLocalOrigins } from './seed-scenario';
import { postSlackEvent } from './slack-request';
import { formatMs } from './terminal';
import type { ThreadPrinter } from './thread-printer';

/** How one event of `events/` went. */
export interface EventResult {
  file: string;
  expect: Expectation['expect'];
  status: number | undefined;
  requestMs: number | undefined;
  /** Replies the bot started for it (placeholders posted). */
  replies: number;
  /** From the POST to the first text other than the placeholder. */
  firstTextMs: number | undefined;
  /** From the POST to the last write of the complete answer. */
  fullAnswerMs: number | undefined;
  /** What was not as expected; empty when all was. */
  problems: string[];
}

/** What {@link runStartScenario} needs. */
export interface ScenarioDeps {
  bot: LocalBot;
  tracker: AnswerTracker;
  printer: ThreadPrinter;
  restamper: EventRestamper;
  files: EventFile[];
  expectations: Map<string, Expectation>;
  secret: string;
  /** The local OpenAI peer answers, so `localReplyContains` can be checked. */
  localModel: boolean;
  /** Everything must be answered by then (epoch ms): a broken setup fails in bounded time. */
  deadline: number;
}

/** The outcome of each event, and what went wrong beyond any one of them. */
export interface ScenarioResult {
  events: EventResult[];
  problems: string[];
}

/** Why a final reply is not a complete answer, if it is not. */
function incomplete(message: SlackMessage | undefined): string | undefined {
  if (!message) return 'was deleted';
  const { text } = message;
  if (message.streaming === 'in_progress') return 'is still streaming';
  if (text === PLACEHOLDER) return 'still shows the placeholder';
  if (text.endsWith(TYPING_MARKER)) return 'still shows the typing marker';
  if (text.includes(RETRYING_NOTICE)) return 'says it will retry';
  if (text.includes(':warning:')) return `shows an error: ${text.slice(text.indexOf(':warning:'))}`;
  return undefined;
}

/** What the checks need to know about one sent event. */
interface Sent {
  result: EventResult;
  expectation: Expectation;
  file: EventFile;
  /** The body as sent (restamped). */
  body: Record<string, unknown>;
  eventId: string;
  thread: { channel: string; threadTs: string } | undefined;
  answer: TrackedAnswer | undefined;
}

/**
 * Sends every event through the signed HTTP path at once, except a follow-up (`after`), which
 * waits for its predecessor's complete answer as a person would; then checks each against its
 * expectation: the status, the challenge, exactly one complete reply, no reply.
 */
export async function runStartScenario(deps: ScenarioDeps): Promise<ScenarioResult> {
  const { bot, tracker, printer, expectations } = deps;
  const url = bot.ingressUrl!;
  const finished = new Map<string, Promise<Sent>>();

  const run = async (file: EventFile): Promise<Sent> => {
    const expectation = expectations.get(file.name)!;
    if (expectation.after) await finished.get(expectation.after);
    const result: EventResult = {
      file: file.name,
      expect: expectation.expect,
      status: undefined,
      requestMs: undefined,
      replies: 0,
      firstTextMs: undefined,
      fullAnswerMs: undefined,
      problems: [],
    };
    const channel = String((file.body.event as { channel?: unknown } | undefined)?.channel ?? '');
    seedBeforeEvent(bot.stack.slack, deps.restamper, expectation.seed, channel);
    const body = withLocalOrigins(deps.restamper.stamp(file.body), bot.stack.pages.origin);
    acceptActionToken(bot.stack.slack, body);
    await serveEventFiles(bot.stack.slack, body, join(dirname(file.path), 'files'));
    const thread = threadOf(body);
    const eventId = String(body.event_id ?? '');
    const sent: Sent = { result, expectation, file, body, eventId, thread, answer: undefined };
    if (expectation.expect === 'reply') {
      if (!thread) {
        result.problems.push('expects a reply but has no event.channel and event.ts');
        return sent;
      }
      sent.answer = tracker.track(file.name, eventId, thread.channel, thread.threadTs);
    }
    const delivery = await postSlackEvent(url, body, { secret: deps.secret });
    result.status = delivery.status;
    result.requestMs = delivery.ms;
    printer.log(`→ ${file.name.padEnd(34)} HTTP ${delivery.status} in ${formatMs(delivery.ms)}`);
    if (delivery.status !== 200)
      result.problems.push(`HTTP ${delivery.status}, expected 200: ${delivery.body}`);

    if (expectation.expect === 'challenge') {
      let challenge: unknown;
      try {
        challenge = (JSON.parse(delivery.body) as { challenge?: unknown }).challenge;
      } catch {
        challenge = undefined;
      }
      if (challenge !== file.body.challenge)
        result.problems.push(`answered ${delivery.body}, not the challenge`);
    }
    if (sent.answer && delivery.status === 200) {
      await tracker.whenDone(eventId, Math.max(0, deps.deadline - Date.now())).catch(() => undefined);
    }
    return sent;
  };

  for (const file of deps.files) finished.set(file.name, run(file));
  const all = await Promise.all(finished.values());
  // Ignored events are never queued; a wrongly queued one must still get the time to show.
  const problems: string[] = [];
  await bot.idle(Math.max(1_000, deps.deadline - Date.now())).catch((error: Error) => {
    problems.push(error.message);
  });
  for (const sent of all) check(sent, deps);
  return { events: all.map((s) => s.result), problems };
}

function check(sent: Sent, deps: ScenarioDeps): void {
  const { result, expectation, eventId, thread, answer } = sent;
  const { tracker, bot } = deps;
  if (expectation.expect === 'prompts') {
    checkPrompts(sent, deps);
    return;
  }
  if (expectation.expect === 'none') {
    const jobs = tracker.jobsFor(eventId);
    const replies = thread
      ? bot.stack.slack
          .thread(thread.channel, thread.threadTs)
          .filter((m) => m.user === bot.stack.slack.botUserId)
      : [];
    if (jobs > 0 || replies.length > 0)
      result.problems.push(`expected no reply, got ${replies.length} (${jobs} job(s))`);
    return;
  }
  if (!answer) return;
  result.replies = answer.replies;
  if (answer.doneAt === undefined) {
    const shown = tracker.texts(answer).join(' ').replace(/\s+/g, ' ');
    const what = shown ? `; the reply shows: ${shown.length > 100 ? `${shown.slice(0, 100)}…` : shown}` : '';
    result.problems.push(`no complete answer before the deadline${what}`);
    return;
  }
  if (answer.firstTextAt !== undefined) result.firstTextMs = answer.firstTextAt - answer.sentAt;
  if (answer.lastWriteAt !== undefined) result.fullAnswerMs = answer.lastWriteAt - answer.sentAt;
  if (answer.replies !== 1) result.problems.push(`expected exactly one reply, got ${answer.replies}`);
  if (answer.failedAttempts > 0)
    result.problems.push(`the worker failed ${answer.failedAttempts} time(s) first`);
  const texts = tracker.texts(answer);
  for (const message of tracker.messages(answer)) {
    const why = incomplete(message);
    if (why) result.problems.push(`the reply ${why}`);
  }
  if (deps.localModel) {
    const whole = texts.join('\n');
    for (const expected of expectation.localReplyContains ?? []) {
      if (!whole.includes(expected))
        result.problems.push(`the reply does not contain ${JSON.stringify(expected)}`);
    }
  }
}

/** Suggested prompts set where the user opened the assistant thread (or agent DM), nothing posted. */
function checkPrompts({ result, eventId, body }: Sent, deps: ScenarioDeps): void {
  const slack = deps.bot.stack.slack;
  const target = promptsTargetOf(body);
  if (!target) {
    result.problems.push('expects prompts but is neither assistant_thread_started nor app_home_opened');
    return;
  }
  if (deps.tracker.jobsFor(eventId) !== 1)
    result.problems.push(`expected one prompts job, got ${deps.tracker.jobsFor(eventId)}`);
  if (!slack.suggestedPrompts(target.channel, target.threadTs)?.prompts.length)
    result.problems.push('no suggested prompts were set');
  const posted = target.threadTs
    ? slack.thread(target.channel, target.threadTs).filter((m) => m.user === slack.botUserId)
    : [];
  if (posted.length > 0) result.problems.push(`expected no message, got ${posted.length}`);
}
