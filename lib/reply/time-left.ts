import { SlackCallError } from '../errors';

/** A Slack call is not started with less time than this left: it could not finish anyway. */
export const MIN_CALL_MS = 300;

/**
 * Runs a Slack call within `timeLeftMs`. The Web API client's own timeout is fixed when it is built;
 * an invocation near its end has less, and Lambda kills it mid-call otherwise, leaving the record
 * invisible for the queue's long visibility timeout. A call cut short this way is `uncertain`:
 * Slack may still have done it.
 * @throws {SlackCallError} `no_time_left` (not sent) or `timeout` (sent, outcome unknown).
 */
export async function withinTime<T>(method: string, timeLeftMs: number, fn: () => Promise<T>): Promise<T> {
  if (timeLeftMs < MIN_CALL_MS) {
    throw new SlackCallError(method, { slackError: 'no_time_left', retryable: true });
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SlackCallError(method, { slackError: 'timeout', retryable: true, uncertain: true })),
      timeLeftMs,
    );
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
