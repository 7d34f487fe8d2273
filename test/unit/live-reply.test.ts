import { SlackCallError } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { LiveReply, TYPING_MARKER } from '../../lib/slack/live-reply';
import type { ReplySurface } from '../../lib/slack/reply-surface';

const logger = createLogger('live-reply-test', { logLevel: 'SILENT' });

/** An in-memory thread implementing the reply port (our own interface, not Slack's SDK). */
function memoryThread() {
  const messages = new Map<string, string>();
  const log: Array<[string, string, string]> = [];
  let next = 1;
  let failures: SlackCallError[] = [];
  const surface: ReplySurface = {
    async post(_c, _t, text) {
      const ts = `ts${next++}`;
      log.push(['post', ts, text]);
      messages.set(ts, text);
      return ts;
    },
    async update(_c, ts, text) {
      const failure = failures.shift();
      log.push(['update', ts, text]);
      if (failure) throw failure;
      messages.set(ts, text);
    },
    async remove(_c, ts) {
      log.push(['remove', ts, '']);
      messages.delete(ts);
    },
  };
  return { surface, messages, log, failWith: (f: SlackCallError[]) => (failures = f) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LiveReply', () => {
  it('shows the first text at once, coalesces what follows, and ends with the full text', async () => {
    // Prepare
    const t = memoryThread();
    const reply = new LiveReply({ surface: t.surface, channel: 'C', threadTs: '1', intervalMs: 50, logger });
    await reply.open('…');
    // Act
    reply.show('a');
    await tick();
    reply.show('a b');
    reply.show('a b c');
    await new Promise((r) => setTimeout(r, 80));
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
    const reply = new LiveReply({
      surface: t.surface,
      channel: 'C',
      threadTs: '1',
      intervalMs: 50,
      messageTs: ['old1', 'old2'],
      onMessages: async (ts) => {
        saved.push(ts);
      },
      logger,
    });
    await reply.open('…');
    await reply.finish('short answer');
    expect([...t.messages.entries()]).toEqual([['old1', 'short answer']]);
    expect(t.log.filter(([op]) => op === 'post')).toEqual([]);
    expect(saved.at(-1)).toEqual(['old1']);
  });

  it('waits out a rate limit on the final write and then shows the answer', async () => {
    const t = memoryThread();
    const waits: number[] = [];
    const reply = new LiveReply({
      surface: t.surface,
      channel: 'C',
      threadTs: '1',
      intervalMs: 50,
      logger,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await reply.open('…');
    t.failWith([
      new SlackCallError('chat.update', { retryable: true, slackError: 'ratelimited', retryAfterSeconds: 3 }),
    ]);
    await reply.finish('done');
    expect(waits).toEqual([3000]);
    expect(t.messages.get('ts1')).toBe('done');
  });

  it('continues a long answer in new messages', async () => {
    const t = memoryThread();
    const reply = new LiveReply({
      surface: t.surface,
      channel: 'C',
      threadTs: '1',
      intervalMs: 50,
      maxChars: 100,
      logger,
    });
    await reply.open('…');
    const text = Array.from({ length: 10 }, (_, i) => `paragraph ${i} ${'x'.repeat(40)}`).join('\n\n');
    await reply.finish(text);
    expect(reply.messageTs.length).toBeGreaterThan(3);
    expect([...t.messages.values()].join('\n\n')).toBe(text);
  });
});
