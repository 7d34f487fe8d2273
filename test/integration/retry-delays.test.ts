import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
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
