import { WebClient } from '@slack/web-api';
import OpenAI from 'openai';
import { openAiChat } from '../../lib/llm/openai-chat';
import { createLogger } from '../../lib/logger';
import type { AnswerReply, StepUpdate } from '../../lib/reply/answer-reply';
import { runAgent } from '../../lib/tools/agent-loop';
import { readLinkTool } from '../../lib/tools/read-link';
import { systemResolver } from '../../lib/tools/safe-fetch';
import { type OpenAIPeer, startOpenAIPeer } from '../../sandbox/peers/openai-peer';
import { type PagePeer, startPagePeer } from '../../sandbox/peers/page-peer';

/**
 * The loop against the real OpenAI client (local peer) and read_link over real sockets (local page
 * peer), with a reply port that records what it is asked to show: the steps it receives, and a Stop
 * pressed while a tool call runs. (How steps look in Slack is the reply adapters' concern.)
 */

let openai: OpenAIPeer;
let pages: PagePeer;
beforeAll(async () => {
  [openai, pages] = await Promise.all([startOpenAIPeer(), startPagePeer()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), pages.close()]);
});
beforeEach(() => {
  openai.reset();
  pages.reset();
});

/** A reply that records steps and texts; `stop()` is the user's Stop. */
function recordingReply() {
  const stop = new AbortController();
  const steps: StepUpdate[] = [];
  const shown: string[] = [];
  const reply: AnswerReply = {
    path: 'native',
    messageTs: [],
    writes: 0,
    stopped: stop.signal,
    open: async () => undefined,
    show: (markdown) => shown.push(markdown),
    step: (update) => steps.push(update),
    finish: async () => undefined,
    abandon: async () => undefined,
  };
  return { reply, steps, shown, stop: () => stop.abort() };
}

function run(question: string, reply: AnswerReply) {
  const client = new OpenAI({ baseURL: openai.url, apiKey: 'sk-local', maxRetries: 0 });
  const messages = [
    { role: 'system' as const, content: 'You are a test.' },
    { role: 'user' as const, content: question },
  ];
  const tool = readLinkTool(
    new WebClient('xoxb-unused'),
    {
      teamId: 'T0LOCAL',
      channel: 'C0GENERAL',
      named: new Set([`${pages.origin}/page`, `${pages.origin}/hang`]),
    },
    {
      names: { names: async () => new Map() },
      resolve: systemResolver,
      allowHosts: new Set([`127.0.0.1:${pages.port}`]),
    },
  );
  return runAgent(
    { messages, reply, tools: [tool] },
    {
      llm: openAiChat(client, { model: 'gpt-4o-mini', temperature: 1 }),
      logger: createLogger('agent-loop-test', { logLevel: 'SILENT' }),
      attempts: 2,
      backoffMs: 10,
      reserveMs: 1_000,
      remainingMs: () => 60_000,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      retryingNotice: 'trying again',
      toolPorts: {
        countTokens: async () => (text: string) => Buffer.byteLength(text),
        resultTokens: 2_000,
        model: 'gpt-4o-mini',
      },
    },
  );
}

describe('the agent loop', () => {
  it('passes each call to the reply as a step: in progress, then complete with its source', async () => {
    // Prepare
    pages.page('/page', { body: '<title>Runbook</title><p>Step one.</p>' });
    const { reply, steps } = recordingReply();
    // Act
    const outcome = await run(`read ${pages.origin}/page`, reply);
    // Assess
    expect('answer' in outcome && outcome.answer.text).toContain('Step one.');
    expect(steps.map((s) => s.status)).toEqual(['in_progress', 'complete']);
    expect(steps[0]!.title).toBe('Reading 127.0.0.1/page');
    expect(steps[1]).toMatchObject({ id: steps[0]!.id, output: 'Read 1 KB' });
    expect(steps[1]!.sources).toEqual([{ url: `${pages.origin}/page`, text: 'Runbook' }]);
    expect(outcome.trace).toEqual(['read a link: 127.0.0.1/page']);
    // usage summed over both model calls
    expect('answer' in outcome && outcome.answer.usage!.promptTokens).toBeGreaterThan(
      openai.requests[0]!.body.messages.length,
    );
  });

  it('Stop during a tool call aborts the call’s request and ends the answer as stopped', async () => {
    // Prepare: the page never answers; the user presses Stop once it was asked for.
    pages.page('/hang', { delayMs: Number.POSITIVE_INFINITY });
    const { reply, steps, stop } = recordingReply();
    const pressed = (async () => {
      while (pages.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
      stop();
    })();
    // Act
    const outcome = await run(`read ${pages.origin}/hang`, reply);
    await pressed;
    // Assess
    expect('answer' in outcome && outcome.answer.finishReason).toBe('stopped');
    for (let i = 0; i < 100 && pages.requests[0]!.abortedAt === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pages.requests[0]!.abortedAt).toBeDefined();
    expect(steps.at(-1)).toMatchObject({ status: 'error', output: 'Stopped' });
    expect(openai.requests).toHaveLength(1);
  });
});
