import type { Logger } from '@aws-lambda-powertools/logger';
import type { SlackWrites } from './slack-reply-api';
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
   * Shows a step of the answer (a tool call) or its new state, soon; never waits for Slack. Steps come
   * before the text: task cards on the native path, a line each above the text on the edit path.
   */
  step(update: StepUpdate): void;
  /**
   * Writes the final text: the complete answer, or a partial one followed by a notice.
   * `feedback` adds Slack's feedback buttons under it. Waits for Slack.
   * @throws {SlackCallError} when it cannot be written (in the time left).
   */
  finish(markdown: string, options?: { notice?: string; feedback?: boolean }): Promise<void>;
  /** The job ends without a reply message: clear what {@link open} showed. Best effort. */
  abandon(): Promise<void>;
}

/**
 * One step of an answer, as Slack's thinking steps show it: a `task_update` chunk
 * (https://docs.slack.dev/reference/methods/chat.appendStream, "task_update chunks").
 */
export interface StepUpdate {
  /** Stable for the step's whole life: later updates with the same id replace its state. */
  id: string;
  /** Short, e.g. "Searching Slack for “deploy freeze”". */
  title: string;
  status: 'pending' | 'in_progress' | 'complete' | 'error';
  /** What the step does, in a line; no user data beyond what the title shows. */
  details?: string;
  /** Its outcome, in a line ("5 messages found", "the page could not be read"). */
  output?: string;
  /** URLs it found or read, shown as the step's sources. */
  sources?: ReadonlyArray<{ url: string; text: string }>;
}

/** Where a reply's messages are, so that a redelivery resumes them instead of posting again. */
export interface ReplyRecord {
  path: 'native' | 'edit';
  messageTs: string[];
  /**
   * Stream messages that may still be streaming (started, not known to be stopped): a redelivery
   * stops these, and only these, before it rewrites them. Absent in claims saved before it was
   * recorded: then every message of a native reply is stopped.
   */
  streaming?: string[];
}

/** What both adapters are built with: where the reply goes, and its time, budget and bookkeeping. */
export interface ReplyAdapterOptions {
  slack: SlackWrites;
  channel: string;
  threadTs: string;
  /** The Slack event answered: every message is tagged with it (`ReplyTag`). */
  eventId: string;
  /** The asking message's `ts`: the reply's messages come after it. */
  askedTs: string;
  /** Untagged bot messages created since then (epoch ms) are this event's: see own-messages.ts. */
  ownSince?: number | undefined;
  botUserId?: string | undefined;
  /** Minimum gap between two streaming writes of the reply. */
  intervalMs: number;
  /** Time left for Slack writes in this invocation. */
  timeLeftMs: () => number;
  /** The workspace's shared write budget; absent: only `intervalMs` and Slack's `Retry-After` pace. */
  budget?: ReplyBudget | undefined;
  /**
   * Longest wait of a final write for the budget before the record goes back to the queue; default
   * `MAX_BUDGET_WAIT_MS`. On the last receive: as long as the invocation has time.
   */
  maxBudgetWaitMs?: number | undefined;
  /** Called whenever the set of messages changes, so a redelivery can resume them. */
  onMessages?: (record: ReplyRecord) => Promise<void>;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
}
