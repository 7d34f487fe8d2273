import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { openAiChat } from '../lib/llm/openai-chat';
import { createLogger } from '../lib/logger';
import type { AnswerReply } from '../lib/reply/answer-reply';
import { runAgent } from '../lib/tools/agent-loop';
import type { Tool } from '../lib/tools/tool';
import { startOpenAIPeer } from '../sandbox/peers/openai-peer';
import { startLocalBot } from './local-bot';
import { median } from './stats';

/**
 * Time from a question that asks for a Slack search (a signed POST to the ingress) to the first
 * task card reaching Slack (a `task_update` chunk of `chat.startStream`), through the real ingress,
 * queue, worker and tool loop on the local peers, native streaming; and, as the anchor in the same
 * run, from a plain question to its first text. Medians of `runs`.
 */
export async function measureFirstCard(runs = 9) {
  const bot = await startLocalBot({ streaming: 'native' });
  const { slack } = bot.stack;
  try {
    slack.seedMessage({
      channel: 'C0DEPLOYS',
      user: 'U0ALICE',
      text: 'The deploy freeze starts Friday at 18:00.',
    });
    const firstCard: number[] = [];
    const firstText: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      for (const [question, samples, isCard] of [
        ['When does the deploy freeze start? Please search Slack for deploy freeze.', firstCard, true],
        ['What is a FIFO queue?', firstText, false],
      ] as const) {
        const ts = `17330000${String(i).padStart(2, '0')}.${isCard ? '1' : '2'}00100`;
        const token = slack.issueActionToken('U0ASKER');
        const body = {
          type: 'event_callback',
          team_id: slack.teamId,
          event_id: `EvTOOLS${i}${isCard ? 'C' : 'T'}${Date.now()}`,
          event_time: Math.floor(Date.now() / 1000),
          event: {
            type: 'app_mention',
            user: 'U0ASKER',
            text: `<@${slack.botUserId}> ${question}`,
            ts,
            channel: 'C0GENERAL',
            event_ts: ts,
            action_token: token,
          },
        };
        const posted = await bot.post(body);
        while (!(await bot.deliver())) await new Promise((r) => setTimeout(r, 5));
        const start = slack
          .callsTo('chat.startStream')
          .find((c) => c.at > posted.startedAt && c.args.thread_ts === ts);
        const chunks = (start?.args.chunks ?? []) as Array<{ type: string }>;
        if (!start || (isCard && !chunks.some((c) => c.type === 'task_update'))) {
          throw new Error(`no ${isCard ? 'task card' : 'text'} reached Slack for ${ts}`);
        }
        if (i > 0) samples.push(start.at - posted.startedAt); // the first round warms up
      }
    }
    return { firstCardMs: median(firstCard), firstTextMs: median(firstText) };
  } finally {
    await bot.close();
  }
}

/**
 * The tool loop's own cost, on the local OpenAI peer (answers at once): (1) time from the question
 * to the first tool call starting (the loop's `step()`); (2) the loop's overhead per round of
 * tools, tool latency excluded: a one-round answer with an instant tool, minus two plain model
 * calls. Run alone: `npx tsx bench/tools.ts`.
 */
export async function measureTools(runs = 15) {
  const peer = await startOpenAIPeer();
  const client = new OpenAI({ baseURL: peer.url, apiKey: 'sk-bench', maxRetries: 0 });
  const llm = openAiChat(client, { model: 'gpt-4o-mini', temperature: 1 });
  const logger = createLogger('bench-tools', { logLevel: 'SILENT' });
  let firstStep = 0;
  const reply: AnswerReply = {
    path: 'native',
    messageTs: [],
    writes: 0,
    stopped: new AbortController().signal,
    open: async () => undefined,
    show: () => undefined,
    finish: async () => undefined,
    abandon: async () => undefined,
    step: () => {
      firstStep ||= performance.now();
    },
  };
  const tool: Tool = {
    name: 'search_slack',
    description: 'search',
    parameters: { type: 'object', properties: { query: { type: 'string' } } },
    title: () => 'Searching',
    trace: () => 'searched',
    run: async () => ({ ok: true, content: 'one message found', output: '1 message' }),
  };
  const deps = {
    llm,
    logger,
    attempts: 2,
    backoffMs: 10,
    reserveMs: 1_000,
    remainingMs: () => 60_000,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    retryingNotice: 'trying again',
    toolPorts: {
      countTokens: async () => (t: string) => Buffer.byteLength(t),
      resultTokens: 1_500,
      model: 'gpt-4o-mini',
    },
  };
  const messages = (q: string) => [
    { role: 'system' as const, content: 'bench' },
    { role: 'user' as const, content: q },
  ];
  const toFirstCall: number[] = [];
  const loop: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    firstStep = 0;
    const started = performance.now();
    await runAgent({ messages: messages('search Slack for deploy freeze'), reply, tools: [tool] }, deps);
    const total = performance.now() - started;
    const p0 = performance.now();
    await runAgent({ messages: messages('hello'), reply, tools: [] }, deps);
    const one = performance.now() - p0;
    if (i < 2) continue; // warm-up
    toFirstCall.push(firstStep - started);
    loop.push(total);
    plain.push(one);
  }
  await peer.close();
  const overhead = median(loop) - 2 * median(plain);
  return {
    toFirstCallMs: median(toFirstCall),
    plainCallMs: median(plain),
    oneRoundMs: median(loop),
    overheadPerRoundMs: overhead,
    overheadRatio: median(loop) / (2 * median(plain)),
  };
}

if (require.main === module) {
  Promise.all([measureTools(), measureFirstCard()]).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
