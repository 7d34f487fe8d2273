import type { Logger } from '@aws-lambda-powertools/logger';
import type { ReplyTag, SlackWrites } from './slack-writes';
import type { ReplyBudget } from './write-budget';

/**
 * The port through which the answer use case shows an answer in Slack. Two adapters implement it:
 * {@link EditReply} (a placeholder post edited with `chat.update`) and {@link StreamReply} (Slack's
 * native stream, `chat.startStream` / `appendStream` / `stopStream`). The use case never knows which.
 */
export interface AnswerReply {
  /** Which way the answer is shown; for logs and metrics. Changes when a stream falls back. */
  readonly path: 'native' | 'edit';
  /** The `ts` of every message of the reply, first one first. */
  readonly messageTs: readonly string[];
  /** Slack writes made so far; for logs and benchmarks. */
  readonly writes: number;
  /** Aborted when the user pressed Stop on the streamed answer: stop generating at once. */
  readonly stopped: AbortSignal;
  /** Shows that an answer is on its way (a loading status or a placeholder message). */
  open(): Promise<void>;
  /** Shows `markdown`, the answer so far, soon; never waits for Slack. */
  show(markdown: string): void;
  /**
   * Writes the final text: the complete answer, or a partial one followed by a notice.
   * `feedback` adds Slack's feedback buttons under it. Waits for Slack.
   * @throws {SlackCallError} when it cannot be written (in the time left).
   */
  finish(markdown: string, options?: { notice?: string; feedback?: boolean }): Promise<void>;
  /** The job ends without a reply message: clear what {@link open} showed. Best effort. */
  abandon(): Promise<void>;
}

/** Where a reply's messages are, so that a redelivery resumes them instead of posting again. */
export interface ReplyRecord {
  path: 'native' | 'edit';
  messageTs: string[];
}

/** What both adapters are built with: where the reply goes, and its time, budget and bookkeeping. */
export interface ReplyAdapterOptions {
  slack: SlackWrites;
  channel: string;
  threadTs: string;
  /** The Slack event answered: every message is tagged with it (see {@link ReplyTag}). */
  eventId: string;
  /** The asking message's `ts`: the reply's messages come after it. */
  askedTs: string;
  botUserId?: string | undefined;
  /** Minimum gap between two streaming writes of the reply. */
  intervalMs: number;
  /** Characters per Slack message before the answer continues in a new one. */
  maxChars?: number;
  /** Time left for Slack writes in this invocation. */
  timeLeftMs: () => number;
  /** The workspace's shared write budget; absent: only `intervalMs` and Slack's `Retry-After` pace. */
  budget?: ReplyBudget | undefined;
  /** Called whenever the set of messages changes, so a redelivery can resume them. */
  onMessages?: (record: ReplyRecord) => Promise<void>;
  logger: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}
