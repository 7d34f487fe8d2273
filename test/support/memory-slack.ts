import type { SlackWrites, StreamContent } from '../../lib/reply/slack-reply-api';

/** One call the reply adapters made, with the text it wrote (if any). */
export interface SlackWrite {
  method: 'post' | 'update' | 'remove' | 'startStream' | 'appendStream' | 'stopStream' | 'setStatus';
  ts?: string;
  text?: string;
}

/**
 * A thread in memory behind the reply adapters' port ({@link SlackWrites}, our own interface, not
 * Slack's SDK): messages by `ts`, a stream's text growing with each append. `refuseStream` makes
 * `chat.startStream` fail as Slack does where native streaming is unavailable.
 */
export function memorySlack(options: { refuseStream?: Error } = {}) {
  const messages = new Map<string, string>();
  const writes: SlackWrite[] = [];
  let next = 1;
  const newTs = () => `1700000600.${String(next++).padStart(6, '0')}`;
  const markdown = (content?: StreamContent) => content?.markdown ?? '';
  const slack: SlackWrites = {
    async post({ text }) {
      const ts = newTs();
      writes.push({ method: 'post', ts, text });
      messages.set(ts, text);
      return ts;
    },
    async update({ ts, text }) {
      writes.push({ method: 'update', ts, text });
      messages.set(ts, text);
    },
    async remove(_channel, ts) {
      writes.push({ method: 'remove', ts });
      messages.delete(ts);
    },
    async startStream({ content }) {
      writes.push({ method: 'startStream', text: markdown(content) });
      if (options.refuseStream) throw options.refuseStream;
      const ts = newTs();
      messages.set(ts, markdown(content));
      return ts;
    },
    async appendStream(_channel, ts, content) {
      writes.push({ method: 'appendStream', ts, text: markdown(content) });
      messages.set(ts, (messages.get(ts) ?? '') + markdown(content));
    },
    async stopStream({ ts, content }) {
      writes.push({ method: 'stopStream', ts, text: markdown(content) });
      messages.set(ts, (messages.get(ts) ?? '') + markdown(content));
    },
    async setStatus(_channel, _threadTs, status) {
      writes.push({ method: 'setStatus', text: status });
    },
    findReplies: async () => [],
  };
  return {
    slack,
    writes,
    /** The thread's messages as they read now, oldest first. */
    thread: () => [...messages.values()],
    /** How many calls of `method` were made. */
    calls: (method: SlackWrite['method']) => writes.filter((w) => w.method === method).length,
  };
}
