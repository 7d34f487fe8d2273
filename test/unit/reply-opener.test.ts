import { SlackCallError } from '../../lib/errors';
import type { AnswerReply } from '../../lib/reply/answer-reply';
import { type ReplyTarget, replyOpener, type StreamingMode } from '../../lib/reply/open-reply';
import { memorySlack } from '../support/memory-slack';
import { RecordingLogger } from '../support/recording-logger';
import { memoryStreamingAvailability } from '../support/store-fakes';

/**
 * How the reply opener (lib/reply/open-reply.ts) chooses where an answer is shown, with the
 * workspace's memory of refused streaming ({@link RememberedRefusals}) in memory and the thread
 * behind the adapters' own port: the edit path where native streaming is known to be off, and a
 * refusal remembered for the workspace's next answers.
 */

const TEXTS = {
  placeholder: '_Thinking…_',
  status: { text: 'is thinking…', loadingMessages: ['Thinking it through…'] },
  refusedNote: 'Slack refused native streaming here.',
};
const ANSWER = 'Paris is the capital of France.';
const target: ReplyTarget = {
  eventId: 'Ev0QUESTION',
  teamId: 'T0LOCAL',
  channel: 'C0GENERAL',
  threadTs: '1700000000.000100',
  ts: '1700000000.000100',
  user: 'U0ASKER',
  isDm: false,
  botUserId: 'UBOT',
};

function world(options: { off?: string[]; refuseStream?: Error; mode?: StreamingMode } = {}) {
  const slack = memorySlack(options.refuseStream ? { refuseStream: options.refuseStream } : {});
  const memory = memoryStreamingAvailability(options.off);
  const logger = new RecordingLogger();
  const opener = replyOpener({
    slack: slack.slack,
    mode: options.mode ?? 'auto',
    availability: memory.availability,
    editIntervalMs: 1,
    appendIntervalMs: 1,
    texts: TEXTS,
  });
  const open = () =>
    opener.open(
      target,
      { lookInThread: false },
      { timeLeftMs: () => 60_000, onMessages: async () => {}, logger },
    );
  return { slack, memory, logger, open };
}

/** One answer shown the way the use case shows it: opened, grown, finished with feedback buttons. */
async function answer(reply: AnswerReply): Promise<void> {
  await reply.open();
  reply.show('Paris is ');
  await reply.finish(ANSWER, { feedback: true });
}

describe('replyOpener: where an answer is shown', () => {
  it('edits a placeholder in a workspace remembered as refusing native streaming, trying no stream', async () => {
    // Prepare
    const w = world({ off: ['T0LOCAL'] });
    // Act
    const reply = await w.open();
    await answer(reply);
    // Assess
    expect(reply.path).toBe('edit');
    expect(w.slack.writes[0]).toMatchObject({ method: 'post', text: TEXTS.placeholder });
    expect(w.slack.calls('startStream') + w.slack.calls('setStatus')).toBe(0);
    expect(w.slack.thread()).toEqual([ANSWER]);
  });

  it('streams natively where nothing says streaming is off', async () => {
    // Prepare
    const w = world();
    // Act
    const reply = await w.open();
    await answer(reply);
    // Assess
    expect(reply.path).toBe('native');
    expect(w.slack.calls('startStream')).toBe(1);
    expect(w.slack.thread()).toEqual([ANSWER]);
  });

  it('remembers a workspace whose stream Slack refuses, and shows that answer and the next ones by editing', async () => {
    // Prepare
    const refusal = new SlackCallError('chat.startStream', {
      slackError: 'feature_not_enabled',
      retryable: false,
    });
    const w = world({ refuseStream: refusal });
    // Act
    const first = await w.open();
    await answer(first);
    const next = await w.open();
    await answer(next);
    // Assess
    expect(w.memory.refusals.get('T0LOCAL')).toBe('feature_not_enabled');
    expect([first.path, next.path]).toEqual(['edit', 'edit']);
    expect(w.slack.calls('startStream')).toBe(1);
    expect(w.slack.thread()).toEqual([ANSWER, ANSWER]);
  });

  it('tries native streaming when the memory of refusals cannot be read', async () => {
    // Prepare
    const w = world();
    w.memory.down = true;
    // Act
    const reply = await w.open();
    await answer(reply);
    // Assess
    expect(reply.path).toBe('native');
    expect(w.slack.thread()).toEqual([ANSWER]);
    expect(w.logger.at('WARN').map((e) => e.message)).toContain(
      'Momento unavailable; trying native streaming',
    );
  });

  it('never asks the memory when answers are always edited', async () => {
    // Prepare
    const w = world({ mode: 'edit' });
    w.memory.down = true;
    // Act
    const reply = await w.open();
    await answer(reply);
    // Assess
    expect(reply.path).toBe('edit');
    expect(w.logger.at('WARN')).toEqual([]);
  });
});
