import { SlackCallError } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { EditReply, type EditReplyOptions, TYPING_MARKER } from '../../lib/reply/edit-reply';
import type { SlackWrites } from '../../lib/reply/slack-reply-api';
import { NoTimeLeftError } from '../../lib/slack/web-api-call';

const logger = createLogger('edit-reply-test', { logLevel: 'SILENT' });

/** An in-memory thread implementing the reply adapters' port (our own interface, not Slack's SDK). */
function memoryThread() {
  const messages = new Map<string, string>();
  const log: Array<[string, string, string]> = [];
  let next = 1;
  let failures: SlackCallError[] = [];
  const unused = async (): Promise<never> => {
    throw new Error('not used by the edit path');
  };
  const slack: SlackWrites = {
    async post({ text }) {
      const ts = `ts${next++}`;
      log.push(['post', ts, text]);
      messages.set(ts, text);
      return ts;
    },
    async update({ ts, text }) {
      const failure = failures.shift();
      log.push(['update', ts, text]);
      if (failure) throw failure;
      messages.set(ts, text);
    },
    async remove(_c, ts) {
      log.push(['remove', ts, '']);
      messages.delete(ts);
    },
    startStream: unused,
    appendStream: unused,
    stopStream: unused,
    setStatus: unused,
    findReplies: async () => [],
  };
  return { slack, messages, log, failWith: (f: SlackCallError[]) => (failures = f) };
}

const tick = () => new Promise((r) => setImmediate(r));

function editReply(t: ReturnType<typeof memoryThread>, options: Partial<EditReplyOptions> = {}) {
  return new EditReply({
    slack: t.slack,
    channel: 'C',
    threadTs: '1',
    eventId: 'Ev1',
    askedTs: '1',
    placeholder: '…',
    intervalMs: 50,
    timeLeftMs: () => 60_000,
    logger,
    ...options,
  });
}

describe('EditReply', () => {
  it('shows the first text at once, coalesces what follows, and ends with the full text', async () => {
    // Prepare
    const t = memoryThread();
    const reply = editReply(t);
    await reply.open();
    // Act
    reply.show('a');
    await tick();
    reply.show('a b');
    reply.show('a b c');
    // Well past the 50 ms interval, so a busy machine still runs the coalesced write first; nothing
    // else is pending, so a longer wait changes nothing else.
    await new Promise((r) => setTimeout(r, 250));
    await reply.finish('a b c d');
    // Assess
    expect(t.log).toEqual([
      ['post', 'ts1', '…'],
      ['update', 'ts1', `a${TYPING_MARKER}`],
      ['update', 'ts1', `a b c${TYPING_MARKER}`],
      ['update', 'ts1', 'a b c d'],
    ]);
  });

  it('edits the messages of an earlier attempt and deletes those the new answer does not need', async () => {
    const t = memoryThread();
    t.messages.set('old1', 'partial').set('old2', 'more partial');
    const saved: string[][] = [];
    const reply = editReply(t, {
      messageTs: ['old1', 'old2'],
      onMessages: async ({ messageTs }) => {
        saved.push(messageTs);
      },
    });
    await reply.open();
    await reply.finish('short answer');
    expect([...t.messages.entries()]).toEqual([['old1', 'short answer']]);
    expect(t.log.filter(([op]) => op === 'post')).toEqual([]);
    expect(saved.at(-1)).toEqual(['old1']);
  });

  it('goes back to the queue when a message an earlier attempt left streaming cannot be stopped', async () => {
    // Prepare: the earlier attempt's message still streams; Slack fails every stop with a 5xx.
    const t = memoryThread();
    t.messages.set('old1', 'A ');
    const conflict = () =>
      new SlackCallError('chat.update', { slackError: 'streaming_state_conflict', retryable: false });
    t.failWith([conflict(), conflict()]);
    const stops: string[] = [];
    t.slack.stopStream = async ({ ts }) => {
      stops.push(ts);
      throw new SlackCallError('chat.stopStream', { slackError: 'http_503', retryable: false });
    };
    const reply = editReply(t, { messageTs: ['old1'], placeholder: undefined });
    await reply.open();
    // Act
    const failure = await reply.finish('the whole answer').catch((e: unknown) => e);
    // Assess: a retryable failure (the redelivery stops and rewrites it), not a final refusal.
    expect(failure).toBeInstanceOf(SlackCallError);
    expect(failure).toMatchObject({ slackError: 'streaming_state_conflict', retryable: true });
    expect(stops).toEqual(['old1']);
  });

  it('shows the first text at once, skips streaming edits the budget turns away, and never holds back the final', async () => {
    // Prepare: the budget turns streaming edits away for 5 s; it admits the placeholder, the first
    // text (which replaces the placeholder, as urgent as a final write) and the final.
    const t = memoryThread();
    const waits: number[] = [];
    const asked: string[] = [];
    const reply = editReply(t, {
      budget: async (method, priority) => {
        asked.push(`${method} ${priority}`);
        return priority === 'streaming' ? 5_000 : 0;
      },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await reply.open();
    // Act
    reply.show('a');
    await tick();
    await new Promise((r) => setTimeout(r, 80));
    reply.show('a b');
    await new Promise((r) => setTimeout(r, 80));
    await reply.finish('a b c');
    // Assess
    expect(t.log).toEqual([
      ['post', 'ts1', '…'],
      ['update', 'ts1', `a${TYPING_MARKER}`],
      ['update', 'ts1', 'a b c'],
    ]);
    expect(asked).toEqual([
      'chat.postMessage final',
      'chat.update final',
      'chat.update streaming',
      'chat.update final',
    ]);
    expect(waits.every((ms) => ms <= 50)).toBe(true);
  });

  it('waits out a rate limit on the final write and then shows the answer', async () => {
    const t = memoryThread();
    const waits: number[] = [];
    const reply = editReply(t, {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await reply.open();
    t.failWith([
      new SlackCallError('chat.update', { retryable: true, slackError: 'ratelimited', retryAfterSeconds: 3 }),
    ]);
    await reply.finish('done');
    expect(waits).toEqual([3000]);
    expect(t.messages.get('ts1')).toBe('done');
  });

  it('continues a long answer in new messages', async () => {
    const t = memoryThread();
    const reply = editReply(t, { maxChars: 100 });
    await reply.open();
    const text = Array.from({ length: 10 }, (_, i) => `paragraph ${i} ${'x'.repeat(40)}`).join('\n\n');
    await reply.finish(text);
    expect(reply.messageTs.length).toBeGreaterThan(3);
    expect([...t.messages.values()].join('\n\n')).toBe(text);
  });

  it('never waits out a rate limit longer than the invocation has left', async () => {
    // Prepare
    const t = memoryThread();
    const waits: number[] = [];
    const reply = editReply(t, {
      timeLeftMs: () => 2_000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await reply.open();
    t.failWith([
      new SlackCallError('chat.update', {
        retryable: true,
        slackError: 'ratelimited',
        retryAfterSeconds: 30,
      }),
    ]);
    // Act
    const finishing = reply.finish('done');
    // Assess
    await expect(finishing).rejects.toMatchObject({ slackError: 'ratelimited' });
    expect(waits).toEqual([]);
  });

  it('starts no Slack call with less time left than a call needs', async () => {
    // Prepare
    const t = memoryThread();
    const reply = editReply(t, { timeLeftMs: () => 100 });
    // Act
    const opening = reply.open();
    // Assess
    await expect(opening).rejects.toBeInstanceOf(NoTimeLeftError);
    await expect(opening).rejects.toMatchObject({ retryable: true });
    expect(t.log).toEqual([]);
  });

  it('neutralises mentions the model wrote, in streaming edits and in the final text', async () => {
    // Prepare
    const t = memoryThread();
    const reply = editReply(t);
    await reply.open();
    // Act
    reply.show('Hey <!channel> and <@U123|alice>');
    await tick();
    await reply.finish('Hey <!channel>, <!here>, <!everyone>, <!subteam^S1|@eng> and <@U123>');
    // Assess
    const texts = t.log.map(([, , text]) => text).join('\n');
    expect(texts).not.toMatch(/<!|<@/);
    expect(t.messages.get('ts1')).toBe('Hey @\u2060channel, @\u2060here, @\u2060everyone, @eng and @U123');
  });
});
