import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { decodeJob } from '../lib/queue/job';
import { type JobQueue, sqsJobQueue } from '../lib/queue/sqs-job-queue';
import { type FunctionUrlHandler, serveFunctionUrl } from './function-url-server';
import { lambdaContext } from './lambda-context';
import { type EventSourceMapping, startEventSourceMapping } from './local-event-source';
import { type LocalStack, startLocalStack } from './local-stack';
import type { Listening } from './peers/listen';
import { LOCAL_AWS_CREDENTIALS } from './peers/sqs-peer';
import { seedAskedMessage } from './seed-asked-message';

/**
 * The whole bot on this machine, as `npm start`, `npm run replay` and `npm run dev` run it: the
 * real `handlers/ingress.ts` behind a local Function URL and the real `handlers/worker.ts` behind a
 * local SQS event source mapping, over the local peers (fauxqs, Slack, OpenAI, Momento) or the real
 * services the user configured. One code path for all three commands.
 */

type Env = Record<string, string | undefined>;

/** Settings the user may set that the local run passes on to the handlers unchanged. */
const TUNING = [
  'OPENAI_API_MODEL',
  'OPENAI_API_TEMPERATURE',
  'OPENAI_TIMEOUT_MS',
  'SYSTEM_PROMPT',
  'HISTORY_TOKEN_BUDGET',
  'OPENAI_IMAGE_INPUT',
  'MOMENTO_CACHE',
  'MOMENTO_TTL',
] as const;

/** Where each dependency of the bot lives in this run, for the banner. */
export interface LocalServices {
  slack: string;
  openai: string;
  momento: string;
  queue: string;
}

/** Options of {@link startLocalBot}. */
export interface LocalBotOptions {
  /**
   * The user's environment (`process.env` after `.env`). `OPENAI_API_KEY` or `OPENAI_BASE_URL`
   * selects that model instead of the OpenAI peer; `MOMENTO_API_KEY` real Momento instead of the
   * Momento peer; the settings in `TUNING` pass through.
   */
  userEnv?: Env;
  /**
   * `local` (default): the Slack peer. `real`: the Web API at `SLACK_API_URL` (default
   * https://slack.com/api/) with `SLACK_BOT_TOKEN` and `SLACK_BOT_USER_ID` from `userEnv`.
   */
  slack?: 'local' | 'real';
  /** Serve the ingress over HTTP (default true); Socket Mode does not need it. */
  serveIngress?: boolean;
  /** Port of the ingress; default a free one. */
  port?: number;
  /** Delay between the OpenAI peer's tokens. Default 20 ms. */
  tokenDelayMs?: number;
  /** `POWERTOOLS_LOG_LEVEL` for the handlers. Default `WARN`. */
  logLevel?: string;
  /** Concurrent pollers of the event source mapping (default 4: four threads answered at once). */
  pollers?: number;
}

/** What one worker invocation did with one record. */
export interface JobOutcome {
  eventId: string | undefined;
  messageId: string;
  /** Deleted from the queue (answered, or given up on gracefully). */
  done: boolean;
  receiveCount: number;
}

/** A running local bot, see {@link startLocalBot}. */
export interface LocalBot {
  stack: LocalStack;
  /** `http://127.0.0.1:PORT/`: the local Function URL, when served. */
  ingressUrl: string | undefined;
  /** The environment the handlers run with (also written to `process.env`). */
  env: Record<string, string>;
  services: LocalServices;
  /** The ingress's queue, for Socket Mode: the same adapter over the same client settings. */
  queue: JobQueue;
  /** Calls `listener` after each worker invocation, once per record. Returns an unsubscribe function. */
  onJob(listener: (outcome: JobOutcome) => void): () => void;
  /** Resolves once the queue is empty and no invocation is running. */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops polling, the ingress server and every peer. Idempotent. */
  close(): Promise<void>;
}

const set = (env: Env, name: string) => Boolean(env[name]?.trim());

/** How long the queue must stay empty, with nothing running, for {@link LocalBot.idle}. */
const IDLE_SETTLE_MS = 300;

/**
 * Starts the peers, points `process.env` at them (the handlers read it when imported, as Lambda's
 * runtime does at cold start), then imports and runs the real handlers. One bot per process: the
 * handler modules, and so their configuration, are loaded once.
 * @throws {ConfigError} from `lib/config.ts` when the resulting environment is invalid.
 */
export async function startLocalBot(options: LocalBotOptions = {}): Promise<LocalBot> {
  const user = options.userEnv ?? process.env;
  const realOpenAI = set(user, 'OPENAI_API_KEY') || set(user, 'OPENAI_BASE_URL');
  const realMomento = set(user, 'MOMENTO_API_KEY');
  const realSlack = options.slack === 'real';

  const passed: Record<string, string> = {};
  const pass = (...names: string[]) => {
    for (const name of names) if (set(user, name)) passed[name] = user[name]!.trim();
  };
  pass(...TUNING);
  if (realOpenAI) pass('OPENAI_API_KEY', 'OPENAI_BASE_URL');
  if (realMomento) pass('MOMENTO_API_KEY', 'MOMENTO_ENDPOINT');
  if (realSlack) {
    pass('SLACK_BOT_TOKEN', 'SLACK_BOT_USER_ID');
    passed.SLACK_API_URL = user.SLACK_API_URL?.trim() || 'https://slack.com/api/';
  }

  const stack = await startLocalStack({
    tokenDelayMs: options.tokenDelayMs ?? 20,
    withoutOpenAI: realOpenAI,
    withoutMomento: realMomento,
    env: passed,
  });
  const env: Record<string, string> = {
    ...stack.env,
    // The queue is always the local peer: dummy credentials, so the SDK never looks for real ones.
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
    // EMF metric lines (lib/metrics.ts) are for CloudWatch, not the terminal; Powertools' own switch.
    POWERTOOLS_METRICS_DISABLED: user.POWERTOOLS_METRICS_DISABLED ?? 'true',
    // The SDK warns on Node < 22 that future versions will need 22; harmless here (PLATFORM.md).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
      user.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
  };
  // The local Slack peer's bot id must not be mistaken for the real bot's.
  if (realSlack && !passed.SLACK_BOT_USER_ID) delete env.SLACK_BOT_USER_ID;
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'MOMENTO_LOCAL_ENDPOINT', 'SLACK_BOT_USER_ID']) {
    delete process.env[name];
  }
  Object.assign(process.env, env);

  let server: Listening | undefined;
  let mapping: EventSourceMapping | undefined;
  try {
    const [{ handler: ingress }, { handler: worker }] = await Promise.all([
      import('../handlers/ingress'),
      import('../handlers/worker'),
    ]);

    if (options.serveIngress !== false) {
      const serve: FunctionUrlHandler = async (event: APIGatewayProxyEventV2, context: Context) => {
        const result = await ingress(event, context);
        // Slack shows the question in the thread whether or not the bot answers: so does the peer.
        if (!realSlack && result.statusCode === 200) seedAskedMessage(stack.slack, event);
        return result;
      };
      server = await serveFunctionUrl(serve, options.port ?? 0);
    }

    const listeners = new Set<(outcome: JobOutcome) => void>();
    let running = 0;
    const invoke = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      running++;
      try {
        return await worker(event, context);
      } finally {
        running--;
      }
    };
    mapping = startEventSourceMapping(stack.sqs.client(), stack.queue, invoke, {
      context: () => lambdaContext('worker', 120_000),
      pollers: options.pollers ?? 4,
      batchSize: 1,
      onResult: ({ event, deleted }) => {
        for (const record of event.Records) {
          let eventId: string | undefined;
          try {
            eventId = decodeJob(record.body).eventId;
          } catch {
            eventId = undefined;
          }
          const outcome: JobOutcome = {
            eventId,
            messageId: record.messageId,
            done: deleted.includes(record.messageId),
            receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
          };
          for (const listener of listeners) listener(outcome);
        }
      },
      onError: (error) => console.error('local event source: polling failed:', error),
    });

    const queued = () => {
      const { ready, inflight, delayed } = stack.sqs.countMessages(stack.queue.queueName);
      return ready + inflight + delayed;
    };
    let closing: Promise<void> | undefined;
    const started = { server, mapping };
    return {
      stack,
      ingressUrl: server ? `${server.origin}/` : undefined,
      env,
      services: {
        slack: realSlack ? env.SLACK_API_URL! : `local peer ${stack.slack.url}`,
        openai: realOpenAI
          ? `${env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'} (model ${env.OPENAI_API_MODEL})`
          : `local peer ${stack.openai!.url}`,
        momento: realMomento
          ? `Momento (cache ${env.MOMENTO_CACHE})`
          : `local peer ${stack.momento!.endpoint}`,
        queue: `local SQS FIFO (fauxqs) ${stack.queue.queueName}`,
      },
      queue: sqsJobQueue(stack.sqs.client(), stack.queue.queueUrl),
      onJob(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async idle(timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        // Idle for a moment, not just once: fauxqs drops a deleted message before its answer reaches
        // the event source mapping, which only then reports the job (onJob). On a busy machine that
        // gap let a test read its jobs before the last one was reported.
        let quietSince: number | undefined;
        for (;;) {
          if (queued() > 0 || running > 0) quietSince = undefined;
          else {
            quietSince ??= Date.now();
            if (Date.now() - quietSince >= IDLE_SETTLE_MS) return;
          }
          if (Date.now() > deadline)
            throw new Error(`jobs were still queued or being answered after ${timeoutMs / 1000} s`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      close() {
        closing ??= (async () => {
          await Promise.all([started.mapping.stop(), started.server?.close()]);
          await stack.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.all([mapping?.stop(), server?.close()]);
    await stack.close();
    throw error;
  }
}
