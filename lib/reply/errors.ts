import { SlackCallError } from '../errors';

/**
 * Conditions of the reply's own making, as typed {@link SlackCallError}s: callers that only care
 * whether a write failed, may be retried or may have been made keep catching `SlackCallError`;
 * the reply branches on the class (`instanceof`), never on a made-up Slack error code.
 */

/** Not sent: the invocation has less time left than a call needs. Retry in the next invocation. */
export class NoTimeLeftError extends SlackCallError {
  constructor(method: string) {
    super(method, { retryable: true });
  }
}

/** Sent, but no answer came within the time the invocation had for it: Slack may have made it. */
export class CallTimeoutError extends SlackCallError {
  constructor(method: string) {
    super(method, { slackError: 'timeout', retryable: true, uncertain: true });
  }
}

/**
 * Not sent: the workspace's shared write budget has no room for it for `waitMs` (see
 * write-budget.ts), longer than this write may wait. A streaming write skips its turn; a final
 * write hands the answer back to the queue for that long.
 */
export class BudgetWaitError extends SlackCallError {
  readonly waitMs: number;
  constructor(method: string, waitMs: number) {
    super(method, { retryable: true, retryAfterSeconds: waitMs / 1000 });
    this.waitMs = waitMs;
  }
}

/** Slack said `ok` but named no message (`ts`): whether and where it was posted is unknown. */
export class MissingTsError extends SlackCallError {
  constructor(method: string) {
    super(method, { retryable: true, uncertain: true });
  }
}
