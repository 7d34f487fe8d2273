import { performance } from 'node:perf_hooks';
import { PLACEHOLDER } from '../lib/worker/notices';
import type { SlackCall, SlackMessage, SlackPeer } from './peers/slack-peer';
import type { JobOutcome, LocalBot } from './run-local';

/** One answer being waited for: when its event was sent, and what the bot did about it in Slack. */
export interface TrackedAnswer {
  label: string;
  eventId: string;
  channel: string;
  threadTs: string;
  /** `performance.now()` just before the event was POSTed (the Slack peer's clock too). */
  sentAt: number;
  /** The first write showing text other than the placeholder (an edit, or a stream's start). */
  firstTextAt: number | undefined;
  /** The last write to the thread before the worker finished: the complete answer. */
  lastWriteAt: number | undefined;
  /** When the worker finished the record (deleted from the queue). */
  doneAt: number | undefined;
  /** The messages the bot posted for this answer and did not delete. */
  messageTs: string[];
  /**
   * Replies started: the answer's first message, and any placeholder posted after it (a second
   * reply). One per answer, however long the answer or however many messages it continues in.
   */
  replies: number;
  /** How the answer was shown: `native` once a stream started for it, else `edit`. */
  path: 'native' | 'edit';
  /** Worker invocations that failed this record (it was retried). */
  failedAttempts: number;
}

/** Web API writes to a message the bot already created. */
const WRITES = new Set(['chat.update', 'chat.delete', 'chat.appendStream', 'chat.stopStream']);

const threadKey = (channel: unknown, threadTs: unknown) => `${String(channel)}/${String(threadTs)}`;

/**
 * Follows answers through the local Slack peer and the worker: which Slack writes belong to which
 * sent event (by thread: events of one thread are answered one after another, FIFO), when the first
 * text showed, when the answer was complete, and how many replies were started.
 */
export class AnswerTracker {
  readonly #pending = new Map<string, TrackedAnswer[]>();
  readonly #byEvent = new Map<string, TrackedAnswer>();
  readonly #messageThread = new Map<string, string>();
  readonly #jobs = new Map<string, number>();
  readonly #waiters = new Map<string, () => void>();
  readonly #slack: SlackPeer;
  readonly #unsubscribe: () => void;
  readonly #onCall = (call: SlackCall) => this.#call(call);

  constructor(slack: SlackPeer, bot: Pick<LocalBot, 'onJob'>) {
    this.#slack = slack;
    slack.on('call', this.#onCall);
    this.#unsubscribe = bot.onJob((outcome) => this.#job(outcome));
  }

  /** Starts following the answer to `eventId`; call it just before sending the event. */
  track(label: string, eventId: string, channel: string, threadTs: string): TrackedAnswer {
    const answer: TrackedAnswer = {
      label,
      eventId,
      channel,
      threadTs,
      sentAt: performance.now(),
      firstTextAt: undefined,
      lastWriteAt: undefined,
      doneAt: undefined,
      messageTs: [],
      replies: 0,
      path: 'edit',
      failedAttempts: 0,
    };
    const key = threadKey(channel, threadTs);
    this.#pending.set(key, [...(this.#pending.get(key) ?? []), answer]);
    this.#byEvent.set(eventId, answer);
    return answer;
  }

  /** The answer in progress in a thread, if any. */
  current(channel: string, threadTs: string): TrackedAnswer | undefined {
    return this.#pending.get(threadKey(channel, threadTs))?.[0];
  }

  /** The latest answer tracked in a thread, finished or not. */
  latest(channel: string, threadTs: string): TrackedAnswer | undefined {
    return [...this.#byEvent.values()].findLast((a) => a.channel === channel && a.threadTs === threadTs);
  }

  /** How many worker invocations handled `eventId`, tracked or not. */
  jobsFor(eventId: string): number {
    return this.#jobs.get(eventId) ?? 0;
  }

  /**
   * Resolves when the worker finished the record of `eventId`.
   * @throws {Error} after `timeoutMs`.
   */
  whenDone(eventId: string, timeoutMs: number): Promise<TrackedAnswer> {
    const answer = this.#byEvent.get(eventId);
    if (!answer) return Promise.reject(new Error(`event ${eventId} is not tracked`));
    if (answer.doneAt !== undefined) return Promise.resolve(answer);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(eventId);
        reject(new Error(`no complete answer within ${((performance.now() - answer.sentAt) / 1000) | 0} s`));
      }, timeoutMs);
      this.#waiters.set(eventId, () => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  /** Texts of the answer's messages as they are now in the Slack peer. */
  texts(answer: TrackedAnswer): string[] {
    return this.messages(answer).map((m) => m?.text ?? '');
  }

  /** The answer's messages as they are now in the Slack peer (undefined: deleted). */
  messages(answer: TrackedAnswer): Array<SlackMessage | undefined> {
    const thread = this.#slack.thread(answer.channel, answer.threadTs);
    return answer.messageTs.map((ts) => thread.find((m) => m.ts === ts));
  }

  stop(): void {
    this.#slack.off('call', this.#onCall);
    this.#unsubscribe();
  }

  #call(call: SlackCall): void {
    if (!call.response.ok) return;
    const { args } = call;
    const message = threadKey(args.channel, call.response.ts ?? args.ts);
    const creates = call.method === 'chat.postMessage' || call.method === 'chat.startStream';
    let key: string | undefined;
    if (creates) {
      key = threadKey(args.channel, args.thread_ts ?? call.response.ts);
      this.#messageThread.set(message, key);
    } else if (WRITES.has(call.method)) {
      key = this.#messageThread.get(message);
    }
    const answer = key === undefined ? undefined : this.#pending.get(key)?.[0];
    if (!answer) return;
    const ts = String(call.response.ts ?? args.ts);
    if (creates) {
      if (answer.messageTs.length === 0 || args.text === PLACEHOLDER) answer.replies++;
      answer.messageTs.push(ts);
    }
    if (call.method === 'chat.startStream') answer.path = 'native';
    if (call.method === 'chat.delete') answer.messageTs = answer.messageTs.filter((t) => t !== ts);
    if (call.method !== 'chat.delete' && args.text !== PLACEHOLDER) answer.firstTextAt ??= call.at;
    answer.lastWriteAt = call.at;
  }

  #job(outcome: JobOutcome): void {
    if (outcome.eventId === undefined) return;
    this.#jobs.set(outcome.eventId, this.jobsFor(outcome.eventId) + 1);
    const answer = this.#byEvent.get(outcome.eventId);
    if (!answer || answer.doneAt !== undefined) return;
    if (!outcome.done) {
      answer.failedAttempts++;
      return;
    }
    answer.doneAt = performance.now();
    const key = threadKey(answer.channel, answer.threadTs);
    const rest = (this.#pending.get(key) ?? []).filter((a) => a !== answer);
    if (rest.length > 0) this.#pending.set(key, rest);
    else this.#pending.delete(key);
    this.#waiters.get(outcome.eventId)?.();
    this.#waiters.delete(outcome.eventId);
  }
}
