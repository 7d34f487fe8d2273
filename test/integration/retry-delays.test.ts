import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import { LOCAL_AWS_CREDENTIALS } from '../../sandbox/peers/sqs-peer';
import { captureLogs } from '../support/capture-logs';
import { settlesWithin, startSilentServer } from '../support/silent-server';
import { workerHarness } from '../support/worker-harness';

/**
 * How soon a failed record comes back: the real worker, its real SQS retry scheduler
 * (`ChangeMessageVisibility`) and fauxqs's redrive policy. A failure no retry can fix must reach
 * the dead-letter queue (and its alarm) in seconds, not after 10 + 20 + 40 + 80 s of backoff.
 */
const h = workerHarness({ name: 'retry-delays', defaults: { streaming: 'edit' } });

/** One receive of whatever is visible on the queue now (no waiting). */
const receiveNow = () =>
  pollOnce(h.sqs, h.queue, h.handler, { context: () => lambdaContext('worker', 120_000), waitSeconds: 0 });

describe('failed records come back', () => {
  it('at once when Slack refuses the token, so the record reaches the dead-letter queue in quick receives', async () => {
    // Prepare: every receive's first Slack write is refused with invalid_auth.
    const j = h.job();
    h.stack.slack.failNext('chat.postMessage', { error: 'invalid_auth' }, h.queue.maxReceiveCount);
    await h.enqueue(j);
    // Act: receive as often as the redrive policy allows, each right after the last one failed.
    const failures: number[] = [];
    for (let receive = 1; receive <= h.queue.maxReceiveCount; receive++) {
      const result = await receiveNow();
      failures.push(result?.response.batchItemFailures.length ?? -1);
    }
    const afterLast = await receiveNow();
    // Assess: each receive failed and was visible again at once; the next one redrove it.
    expect(failures).toEqual(Array(h.queue.maxReceiveCount).fill(1));
    expect(afterLast).toBeUndefined();
    expect(h.stack.sqs.countMessages(h.queue.dlqName).ready).toBe(1);
    expect(h.stack.openai!.requests).toHaveLength(0);
  });

  it('after a backoff when another try may work', async () => {
    // Prepare: Slack answers 5xx to the first post (retryable), on a queue of two receives.
    h.build({ maxReceiveCount: 2 });
    const j = h.job();
    h.stack.slack.failNext('chat.postMessage', { status: 503 }, 1);
    await h.enqueue(j);
    // Act
    const first = await receiveNow();
    const visibleInMs =
      h.stack.sqs.server.inspectQueue(h.queue.queueName)!.messages.inflight[0]!.visibilityDeadline -
      Date.now();
    const meanwhile = await receiveNow();
    // Assess: the retryable failure waits its backoff (RETRY_DELAY_SECONDS, 10 s here).
    expect(first?.response.batchItemFailures).toHaveLength(1);
    expect(visibleInMs).toBeGreaterThan(5_000);
    expect(meanwhile).toBeUndefined();
  });

  it('at once after the last receive, whatever failed: the redrive comes next, not a backoff', async () => {
    // Prepare: one receive; Slack answers 5xx to the reply and to the note that says it gave up.
    h.build({ maxReceiveCount: 1 });
    const j = h.job();
    h.stack.slack.failNext('chat.postMessage', { status: 503 }, 2);
    await h.enqueue(j);
    // Act
    const only = await receiveNow();
    const next = await receiveNow();
    // Assess: failed (nobody could be told), and already in the dead-letter queue.
    expect(only?.response.batchItemFailures).toHaveLength(1);
    expect(next).toBeUndefined();
    expect(h.stack.sqs.countMessages(h.queue.dlqName).ready).toBe(1);
  });
});

describe('the worker’s retry scheduler as deployed', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('gives up within its limits, and says so, when SQS takes the connection and never answers', async () => {
    // Prepare: the worker's own SQS client (no override), pointed at a silent endpoint.
    const silent = await startSilentServer();
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: silent.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    });
    const deps = buildWorkerDeps(h.stack.workerConfig, createLogger('retry-test', { logLevel: 'WARN' }), {
      metrics: createMetrics('test', 'slack-worker', { write: () => undefined }),
    });
    const logs = captureLogs();
    try {
      // Act: guarded far above its limits (2 tries of 1.5 s) and far below the invocation's 2 min.
      await settlesWithin(
        deps.retries.retryLater([
          { receiptHandle: 'r-1', queueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs.fifo', delaySeconds: 0 },
        ]),
        15_000,
        'retryLater',
      );
      // Assess: best effort, as documented: a WARN naming the SDK's timeout.
      const [warned] = logs
        .entries()
        .filter((e) => e.message === 'could not shorten visibility of failed records');
      expect(warned).toMatchObject({ level: 'WARN', error: { name: 'TimeoutError' } });
    } finally {
      logs.restore();
      deps.close();
      await silent.close();
    }
  });
});
