import type { EventFile } from './event-files';
import type { EventRestamper } from './restamp-event';
import { postSlackEvent, UnreachableUrlError } from './slack-request';

/** One POST of a replay and what came back. */
export interface ReplayedRequest {
  file: string;
  /** 1-based repetition (`--repeat`). */
  round: number;
  /** 0 for the first delivery, n for Slack's n-th retry (`x-slack-retry-num`). */
  retryNum: number;
  status: number;
  ms: number;
  body: string;
}

/** Options of {@link replayRequests}. */
export interface ReplayOptions {
  url: string;
  secret: string;
  files: EventFile[];
  /** Fresh `event_id`s per round (undefined: send the files' own, `--keep-ids`). */
  restamper: EventRestamper | undefined;
  /** Retries after each first delivery, with `x-slack-retry-num` 1..retries. */
  retries: number;
  /** Every file this many times. */
  repeat: number;
  /** Deliveries in flight at once; the retries of one event always follow its first delivery. */
  concurrency: number;
  /** Called before the first delivery of each stamped body (to follow its answer). */
  beforeSend?: (file: EventFile, body: Record<string, unknown>) => void;
  /** Called after each request. */
  onRequest?: (request: ReplayedRequest) => void;
}

/**
 * Sends saved Slack payloads to a Function URL the way Slack does: each re-signed with the current
 * timestamp, optionally again as Slack's retries of the same delivery (same body and `event_id`),
 * in file order with at most `concurrency` events in flight.
 * @throws {UnreachableUrlError} as soon as a request gets no HTTP answer; nothing more is sent.
 */
export async function replayRequests(options: ReplayOptions): Promise<ReplayedRequest[]> {
  const units: Array<{ file: EventFile; round: number }> = [];
  for (let round = 1; round <= options.repeat; round++) {
    for (const file of options.files) units.push({ file, round });
  }
  const done: ReplayedRequest[] = [];
  let next = 0;
  let unreachable: UnreachableUrlError | undefined;

  const deliver = async ({ file, round }: { file: EventFile; round: number }) => {
    const body = options.restamper ? options.restamper.stamp(file.body) : file.body;
    options.beforeSend?.(file, body);
    for (let retryNum = 0; retryNum <= options.retries && !unreachable; retryNum++) {
      try {
        const sent = await postSlackEvent(options.url, body, {
          secret: options.secret,
          ...(retryNum > 0 ? { retryNum } : {}),
        });
        const request: ReplayedRequest = { file: file.name, round, retryNum, ...sent };
        done.push(request);
        options.onRequest?.(request);
      } catch (error) {
        if (!(error instanceof UnreachableUrlError)) throw error;
        unreachable ??= error;
      }
    }
  };

  const lane = async () => {
    while (next < units.length && !unreachable) await deliver(units[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, units.length) }, lane));
  if (unreachable) throw unreachable;
  return done;
}
