import { workerHarness } from '../support/worker-harness';

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

const h = workerHarness({ name: 'privacy', captureLogs: true });

beforeEach(() => {
  h.stack.openai!.setAnswer(ANSWER);
});

/** Queues one mention and runs the worker over it once, on a queue with `maxReceiveCount`. */
async function runOnce(maxReceiveCount: number, streaming: 'edit' | 'native' = 'edit') {
  h.build({ maxReceiveCount, streaming });
  await h.enqueue(h.job({ text: QUESTION }));
  return (await h.deliver()).response;
}

/** Every captured line that names a word of the question or the answer. */
function leaks(): string[] {
  return h
    .logLines()
    .filter((line) => [...QUESTION_WORDS, ...ANSWER_WORDS].some((word) => line.includes(word)));
}

const levels = () => h.logs().map((e) => e.level);

describe('logs on the worker’s failure paths hold no question or answer text', () => {
  it('a model error mid-stream, after part of the answer, retried and handed back to the queue', async () => {
    // Prepare: both attempts of this receive break after 3 words.
    h.stack.openai!.failNext({ errorFrameAfterTokens: 3 }, 2);
    // Act
    const response = await runOnce(4);
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(levels()).toEqual(expect.arrayContaining(['WARN', 'ERROR']));
    const failed = h.logs().find((e) => e.message === 'model call failed');
    expect(failed?.error).toMatchObject({
      name: 'LlmError',
      retryable: true,
      partialTextChars: expect.any(Number),
    });
    expect(leaks()).toEqual([]);
  });

  it('a dropped stream on the last receive: the worker gives up and says so', async () => {
    // Prepare
    h.stack.openai!.failNext({ dropAfterTokens: 2 }, 2);
    // Act
    const response = await runOnce(1);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.logs().some((e) => e.message === 'gave up on the event')).toBe(true);
    expect(leaks()).toEqual([]);
  });

  it('a permanent model error (400)', async () => {
    // Prepare
    h.stack.openai!.failNext({ status: 400 });
    // Act
    await runOnce(4);
    // Assess
    expect(levels()).toContain('ERROR');
    expect(leaks()).toEqual([]);
  });

  it('Slack refusing the reply', async () => {
    // Prepare
    h.stack.slack.failNext('chat.update', { error: 'not_in_channel' }, 20);
    // Act
    const response = await runOnce(4);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.logs().find((e) => e.level === 'ERROR')).toMatchObject({ slackError: 'not_in_channel' });
    expect(leaks()).toEqual([]);
  });

  it('a successful answer logs lengths, not the text', async () => {
    // Act
    await runOnce(4);
    // Assess
    expect(h.logs().find((e) => e.message === 'answered')).toMatchObject({ chars: ANSWER.length });
    expect(leaks()).toEqual([]);
  });

  it('a model error mid-stream on the native path, handed back to the queue', async () => {
    // Prepare
    h.stack.openai!.failNext({ errorFrameAfterTokens: 3 }, 2);
    // Act
    const response = await runOnce(4, 'native');
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(leaks()).toEqual([]);
  });

  it('Slack refusing the native stream', async () => {
    // Prepare
    h.stack.slack.failNext('chat.startStream', { error: 'not_in_channel' }, 20);
    // Act
    const response = await runOnce(4, 'native');
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.logs().find((e) => e.level === 'ERROR')).toMatchObject({ slackError: 'not_in_channel' });
    expect(leaks()).toEqual([]);
  });
});
