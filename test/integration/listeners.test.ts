import { getEventListeners } from 'node:events';
import { resolve } from 'node:path';
import OpenAI from 'openai';
import { openAiChat } from '../../lib/llm/openai-chat';
import { startOpenAIPeer } from '../../sandbox/peers/openai-peer';
import { runToExit, shellEnv } from '../support/run-command';

/**
 * Answers at once, as a warm worker and `npm run bench` see them: no `AbortSignal` may collect a
 * listener per call (Node warns at eleven). Run in a child process: Node emits the warning on the
 * real `process`, which a Jest test cannot listen to.
 */
const ROOT = resolve(__dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

describe('listeners on abort signals', () => {
  it.each(['edit', 'native'])(
    'answers 12 questions at once on the %s path without MaxListenersExceededWarning',
    async (path) => {
      // Act
      const result = await runToExit(TSX, ['test/support/concurrent-answers.ts'], {
        cwd: ROOT,
        env: shellEnv({
          ANSWERS: '12',
          ANSWER_PATH: path,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        }),
      });
      // Assess
      expect(result.stdout).toContain('answered 12');
      const line = result.stdout.split('\n').find((l) => l.startsWith('warnings '));
      expect(JSON.parse(line?.slice('warnings '.length) ?? 'null')).toEqual([]);
      expect(result.code).toBe(0);
    },
  );
});

describe('the model stream and the reply’s Stop signal', () => {
  it('leaves no listener on the signal it was given once each stream ends, answered or failed', async () => {
    // Prepare: one signal for many streams, as one reply's Stop is for each try of its answer; fewer
    // than Node's warning threshold (10) at once, so a listener left behind shows only in the count.
    const peer = await startOpenAIPeer();
    const chat = openAiChat(new OpenAI({ baseURL: peer.url, apiKey: 'x', maxRetries: 0 }), {
      model: 'gpt-4o-mini',
      temperature: 1,
    });
    const stop = new AbortController();
    peer.failNext({ status: 500 }, 3);
    try {
      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 9 }, () =>
          chat
            .stream([{ role: 'user', content: 'hi' }], () => undefined, {
              deadlineMs: 10_000,
              signal: stop.signal,
            })
            .then(
              () => 'answered',
              () => 'failed',
            ),
        ),
      );
      // Assess
      expect(outcomes.filter((o) => o === 'failed')).toHaveLength(3);
      expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    } finally {
      await peer.close();
    }
  });
});
