import type { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../../lib/logger';
import type { AnswerJob } from '../../lib/queue/job';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { buildWorkerDeps } from '../../lib/worker/worker-deps';
import { createWorkerHandler } from '../../lib/worker/worker-handler';
import { lambdaContext } from '../../sandbox/lambda-context';
import { pollOnce } from '../../sandbox/local-event-source';
import { type LocalStack, startLocalStack } from '../../sandbox/local-stack';
import { captureLogs } from '../support/capture-logs';

/**
 * No user or model text in the logs at INFO, WARN or ERROR (issue 15, item 6): the worker's
 * failure paths run for real (real SDK clients, local peers), every line the logger writes is
 * captured, and none may contain the question or any word of the answer. Lengths and ids only.
 */

// Distinctive words: any of them in a log line is a leak.
const QUESTION_WORDS = ['Zanzibar', 'quokka', 'payroll'];
const QUESTION = `<@UBOT0LOCAL> ${QUESTION_WORDS.join(' ')} secrets, please?`;
const ANSWER_WORDS = ['Marmalade', 'ostrich', 'periwinkle', 'lighthouse', 'xylophone', 'tangerine'];
const ANSWER = `${ANSWER_WORDS.join(' ')} are the answer.`;

let stack: LocalStack;
let sqs: SQSClient;
let logs: ReturnType<typeof captureLogs>;
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack();
  sqs = stack.sqs.client();
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.slack.reset();
  stack.openai!.reset();
  stack.openai!.setAnswer(ANSWER);
  logs = captureLogs();
});
afterEach(() => logs.restore());

/** Queues one mention and runs the worker over it once, on a queue with `maxReceiveCount`. */
async function runOnce(maxReceiveCount: number, streaming: 'edit' | 'native' = 'edit') {
  const queue = stack.sqs.createFifoQueue(`privacy-${++n}`, { maxReceiveCount });
  const config = {
    ...stack.workerConfig,
    slack: { ...stack.workerConfig.slack, streaming },
    queue: { url: queue.queueUrl, maxReceiveCount, retryDelaySeconds: 10 },
  };
  const deps = buildWorkerDeps(config, createLogger('privacy-test', { logLevel: 'INFO' }), { sqs });
  const handler = createWorkerHandler({ ...deps, settings: { llmBackoffMs: 10 } });
  const ts = `1700002${String(n).padStart(3, '0')}.000100`;
  const job: AnswerJob = {
    v: 1,
    eventId: `EvPRIVACY${n}${Date.now()}`,
    teamId: 'T0LOCAL',
    channel: 'C0GENERAL',
    threadTs: ts,
    ts,
    user: 'U0ASKER',
    text: QUESTION,
    isDm: false,
    receivedAt: Date.now(),
  };
  try {
    await sqsJobQueue(sqs, queue.queueUrl).enqueue(job);
    const result = await pollOnce(sqs, queue, handler, { context: () => lambdaContext('worker', 120_000) });
    return result!.response;
  } finally {
    deps.close();
  }
}

/** Every captured line that names a word of the question or the answer. */
function leaks(): string[] {
  return logs
    .text()
    .filter((line) => [...QUESTION_WORDS, ...ANSWER_WORDS].some((word) => line.includes(word)));
}

const levels = () => logs.entries().map((e) => e.level);

describe('logs on the worker’s failure paths hold no question or answer text', () => {
  it('a model error mid-stream, after part of the answer, retried and handed back to the queue', async () => {
    // Prepare: both attempts of this receive break after 3 words.
    stack.openai!.failNext({ errorFrameAfterTokens: 3 }, 2);
    // Act
    const response = await runOnce(4);
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(levels()).toEqual(expect.arrayContaining(['WARN', 'ERROR']));
    const failed = logs.entries().find((e) => e.message === 'model call failed');
    expect(failed?.error).toMatchObject({
      name: 'LlmError',
      retryable: true,
      partialTextChars: expect.any(Number),
    });
    expect(leaks()).toEqual([]);
  });

  it('a dropped stream on the last receive: the worker gives up and says so', async () => {
    // Prepare
    stack.openai!.failNext({ dropAfterTokens: 2 }, 2);
    // Act
    const response = await runOnce(1);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(logs.entries().some((e) => e.message === 'gave up on the event')).toBe(true);
    expect(leaks()).toEqual([]);
  });

  it('a permanent model error (400)', async () => {
    // Prepare
    stack.openai!.failNext({ status: 400 });
    // Act
    await runOnce(4);
    // Assess
    expect(levels()).toContain('ERROR');
    expect(leaks()).toEqual([]);
  });

  it('Slack refusing the reply', async () => {
    // Prepare
    stack.slack.failNext('chat.update', { error: 'not_in_channel' }, 20);
    // Act
    const response = await runOnce(4);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(logs.entries().find((e) => e.level === 'ERROR')).toMatchObject({ slackError: 'not_in_channel' });
    expect(leaks()).toEqual([]);
  });

  it('a successful answer logs lengths, not the text', async () => {
    // Act
    await runOnce(4);
    // Assess
    expect(logs.entries().find((e) => e.message === 'answered')).toMatchObject({ chars: ANSWER.length });
    expect(leaks()).toEqual([]);
  });

  it('a model error mid-stream on the native path, handed back to the queue', async () => {
    // Prepare
    stack.openai!.failNext({ errorFrameAfterTokens: 3 }, 2);
    // Act
    const response = await runOnce(4, 'native');
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(leaks()).toEqual([]);
  });

  it('Slack refusing the native stream', async () => {
    // Prepare
    stack.slack.failNext('chat.startStream', { error: 'not_in_channel' }, 20);
    // Act
    const response = await runOnce(4, 'native');
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(logs.entries().find((e) => e.level === 'ERROR')).toMatchObject({ slackError: 'not_in_channel' });
    expect(leaks()).toEqual([]);
  });
});
