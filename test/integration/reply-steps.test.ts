import type { StepUpdate } from '../../lib/reply/answer-reply';
import { workerHarness } from '../support/worker-harness';

// How an answer's steps (tool calls) show: Slack's task cards on the native path, a line each on
// the edit path; both through the real reply adapters and Web API client against the Slack peer.
const h = workerHarness({ name: 'steps', defaults: { streaming: 'auto' } });

let n = 0;
/** Opens a reply for a new question, as the use case would. */
async function openReply() {
  const j = h.job({ teamId: `T0STEPS${++n}` });
  h.stack.slack.seedMessage({ channel: j.channel, ts: j.ts, user: j.user, text: j.text });
  const reply = await h.deps.replies.open(
    {
      eventId: j.eventId,
      teamId: j.teamId,
      channel: j.channel,
      threadTs: j.threadTs,
      ts: j.ts,
      user: j.user,
      isDm: false,
      botUserId: h.stack.slack.botUserId,
    },
    { lookInThread: false },
    { timeLeftMs: () => 60_000, onMessages: async () => undefined, logger: h.deps.logger },
  );
  return { j, reply };
}

const search: StepUpdate = {
  id: 'call_1',
  title: 'Searching Slack for “deploy freeze”',
  status: 'in_progress',
};
const page: StepUpdate = { id: 'call_2', title: 'Reading example.com/freeze', status: 'in_progress' };
const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));

type Chunk = { type: string; id?: string; status?: string; sources?: unknown[]; text?: string };
const chunksOf = (method: string) =>
  h.stack.slack
    .callsTo(method)
    .flatMap((c) => (Array.isArray(c.args.chunks) ? (c.args.chunks as Chunk[]) : []));

describe('native path: each step is a task card', () => {
  it('starts the stream with the round’s cards in a plan, updates them, and completes them before the stop', async () => {
    // Prepare
    const { j, reply } = await openReply();
    await reply.open();
    // Act: a round of two calls, their outcomes, then the answer.
    reply.step(search);
    reply.step(page);
    await tick();
    reply.step({
      ...search,
      status: 'complete',
      output: '3 messages found',
      sources: [{ url: 'https://x.slack.com/archives/C1/p1', text: '#deploys' }],
    });
    reply.step({ ...page, status: 'error', output: 'the page could not be read' });
    await tick(700);
    reply.show('The freeze starts Friday.');
    await reply.finish('The freeze starts Friday.', { feedback: true });
    // Assess: cards first, in a plan; each ends complete or error, before the stream stops.
    const start = h.stack.slack.callsTo('chat.startStream')[0]!;
    expect(start.args.task_display_mode).toBe('plan');
    expect((start.args.chunks as Chunk[]).map((c) => [c.type, c.id, c.status])).toEqual([
      ['task_update', 'call_1', 'in_progress'],
      ['task_update', 'call_2', 'in_progress'],
    ]);
    const updates = [...chunksOf('chat.appendStream'), ...chunksOf('chat.stopStream')].filter(
      (c) => c.type === 'task_update',
    );
    expect(updates.map((c) => [c.id, c.status])).toEqual([
      ['call_1', 'complete'],
      ['call_2', 'error'],
    ]);
    expect(updates[0]!.sources).toEqual([
      { type: 'url', url: 'https://x.slack.com/archives/C1/p1', text: '#deploys' },
    ]);
    const [message] = h.stack.slack
      .thread(j.channel, j.threadTs)
      .filter((m) => m.user === h.stack.slack.botUserId);
    expect(message).toMatchObject({ text: 'The freeze starts Friday.', streaming: 'stopped' });
  });

  it('names the running tool in the status line before the stream starts', async () => {
    // Prepare
    const { reply } = await openReply();
    await reply.open();
    // Act
    reply.step(search);
    await tick();
    await reply.finish('Done.');
    // Assess
    const order = h.stack.slack.calls
      .filter((c) => c.method === 'assistant.threads.setStatus' || c.method === 'chat.startStream')
      .map((c) => (c.method === 'chat.startStream' ? 'stream' : String(c.args.status)));
    expect(order).toEqual(['is thinking…', 'is searching Slack for “deploy freeze”…', 'stream']);
  });
});

describe('what a tool hands over is made fit for Slack', () => {
  it('shows a source without a title (a page whose title is blank) by its address, and the answer ends', async () => {
    // Prepare
    const { j, reply } = await openReply();
    await reply.open();
    reply.step(page);
    await tick();
    // Act: Slack refuses a chunk whose source text is blank (invalid_chunks), and the stream with it.
    reply.step({ ...page, status: 'complete', sources: [{ url: 'https://example.com/freeze', text: ' ' }] });
    await reply.finish('The freeze starts Friday.', { feedback: true });
    // Assess
    const sources = [...chunksOf('chat.appendStream'), ...chunksOf('chat.stopStream')].flatMap(
      (c) => c.sources ?? [],
    );
    expect(sources).toEqual([
      { type: 'url', url: 'https://example.com/freeze', text: 'https://example.com/freeze' },
    ]);
    const [message] = h.stack.slack
      .thread(j.channel, j.threadTs)
      .filter((m) => m.user === h.stack.slack.botUserId);
    expect(message).toMatchObject({ text: 'The freeze starts Friday.', streaming: 'stopped' });
  });

  it('names a running tool in the status line without notifying anyone its title quotes', async () => {
    // Prepare
    const { reply } = await openReply();
    await reply.open();
    // Act
    reply.step({ id: 'call_9', title: 'Searching Slack for <@U0BOSS> <!channel>', status: 'in_progress' });
    await tick();
    await reply.finish('Done.');
    // Assess
    const statuses = h.stack.slack.callsTo('assistant.threads.setStatus').map((c) => String(c.args.status));
    expect(statuses.join(' ')).not.toMatch(/<@U0BOSS>|<!channel>/);
    expect(statuses).toContainEqual(expect.stringMatching(/^is searching Slack for /));
  });
});

describe('edit path: each step is a line above the answer', () => {
  it('shows the steps while the answer grows and keeps them on the final message as a context block', async () => {
    // Prepare
    h.build({ streaming: 'edit', updateIntervalMs: 250 });
    const { j, reply } = await openReply();
    await reply.open();
    // Act
    reply.step(search);
    await tick(300);
    reply.step({ ...search, status: 'complete', output: '3 messages found' });
    reply.show('The freeze');
    await tick(300);
    await reply.finish('The freeze starts Friday.', { feedback: true });
    // Assess
    const edits = h.stack.slack.callsTo('chat.update').map((c) => String(c.args.text));
    expect(
      edits.some((t) => t.startsWith(':hourglass_flowing_sand: Searching Slack for “deploy freeze”')),
    ).toBe(true);
    const [message] = h.stack.slack
      .thread(j.channel, j.threadTs)
      .filter((m) => m.user === h.stack.slack.botUserId);
    const blocks = message!.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>;
    expect(blocks[0]).toEqual({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: ':white_check_mark: Searching Slack for “deploy freeze” — 3 messages found' },
      ],
    });
    expect(blocks.map((b) => b.type)).toEqual(['context', 'section', 'context_actions']);
  });
});
