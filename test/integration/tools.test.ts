import { isBlockedAddress } from '../../lib/tools/address-policy';
import { READ_LINK_LIMITS } from '../../lib/tools/read-link';
import type { Resolver } from '../../lib/tools/safe-fetch';
import { type McpPeer, startMcpPeer } from '../../sandbox/peers/mcp-peer';
import { type PagePeer, startPagePeer } from '../../sandbox/peers/page-peer';
import { waitFor } from '../support/wait-for';
import { workerHarness } from '../support/worker-harness';

/**
 * The model's tools end to end: the real worker, the real OpenAI client against the local peer
 * (which calls tools deterministically: sandbox/peers/openai-tool-calls.ts), the real WebClient
 * against the Slack peer (`assistant.search.context`, `conversations.replies`), read_link over real
 * sockets to a local page peer, and the official MCP SDK against a local MCP server.
 */

const h = workerHarness({ name: 'tools', defaults: { streaming: 'edit' }, captureLogs: true });
let pages: PagePeer;
let hidden: PagePeer;
let mcp: McpPeer;

beforeAll(async () => {
  [pages, hidden, mcp] = await Promise.all([startPagePeer(), startPagePeer(), startMcpPeer()]);
});
afterAll(async () => {
  await Promise.all([pages.close(), hidden.close(), mcp.close()]);
});
beforeEach(() => {
  pages.reset();
  hidden.reset();
  mcp.reset();
  build();
});

/** The worker with read_link allowed to reach `pages` (a loopback peer) and the MCP peer configured. */
function build(extra: Parameters<typeof h.build>[0] = {}) {
  h.build({
    tools: {
      readLinkAllowHosts: [`127.0.0.1:${pages.port}`],
      mcpServers: [{ name: 'incidents', url: mcp.url, headers: { Authorization: 'Bearer local-mcp' } }],
      ...extra.tools,
    },
    ...extra,
  });
}

const ask = (text: string, overrides: Parameters<typeof h.job>[0] = {}) =>
  h.job({ text: `<@${h.stack.slack.botUserId}> ${text}`, ...overrides });

const answerText = (job: ReturnType<typeof h.job>) =>
  h
    .botMessages(job)
    .map((m) => m.text)
    .join('\n');

const requests = () => h.stack.openai!.requests;
const offered = (i: number) => (requests()[i]?.body.tools ?? []).map((t) => t.function.name);

function seedDeployFreeze() {
  const slack = h.stack.slack;
  slack.seedUser({ id: 'U0ALICE', name: 'alice', displayName: 'Alice' });
  slack.seedMessage({
    channel: 'C0RELEASES',
    user: 'U0ALICE',
    text: 'Deploy freeze starts Friday 18:00 until Monday.',
  });
  slack.seedMembers('G0SECRET', ['U0BOB']);
  slack.seedMessage({
    channel: 'G0SECRET',
    user: 'U0BOB',
    text: 'Secret: the deploy freeze is a cover for layoffs.',
  });
}

describe('search_slack', () => {
  it('searches as the asking user with their action_token and answers from what they may see', async () => {
    // Prepare
    seedDeployFreeze();
    const token = h.stack.slack.issueActionToken('U0ASKER');
    const job = ask('search Slack for deploy freeze', { actionToken: token });
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    const [search, ...more] = h.stack.slack.callsTo('assistant.search.context');
    expect(more).toEqual([]);
    expect(search?.args).toMatchObject({ query: 'deploy freeze', action_token: token });
    const answer = answerText(job);
    expect(answer).toContain('Deploy freeze starts Friday');
    expect(answer).toContain('Alice');
    expect(answer).not.toContain('layoffs');
    expect(requests()).toHaveLength(2);
    expect(requests()[1]!.body.messages.at(-1)).toMatchObject({ role: 'tool' });
  });

  it('keeps what the asker sees in private out of a channel thread, and searches it in a DM with the bot', async () => {
    // Prepare: the asker is in a private channel that mentions the freeze.
    seedDeployFreeze();
    h.stack.slack.seedMembers('G0ASKERS', ['U0ASKER']);
    h.stack.slack.seedMessage({
      channel: 'G0ASKERS',
      user: 'U0ASKER',
      text: 'Private note: the deploy freeze may move to Thursday.',
    });
    const inChannel = ask('search Slack for deploy freeze', {
      actionToken: h.stack.slack.issueActionToken('U0ASKER'),
    });
    const inDm = h.job({
      channel: 'D0ASKER',
      isDm: true,
      text: 'search Slack for deploy freeze',
      actionToken: h.stack.slack.issueActionToken('U0ASKER'),
    });
    // Act
    for (const job of [inChannel, inDm]) {
      await h.enqueue(job);
      await h.deliver();
    }
    // Assess: the channel's answer searched public channels only; the DM's everything the asker sees.
    const [channelSearch, dmSearch] = h.stack.slack.callsTo('assistant.search.context');
    expect(channelSearch?.args.channel_types).toBe('public_channel');
    expect(answerText(inChannel)).not.toContain('Thursday');
    expect(String(dmSearch?.args.channel_types).split(',').sort()).toEqual([
      'im',
      'mpim',
      'private_channel',
      'public_channel',
    ]);
    expect(answerText(inDm)).toContain('Thursday');
    expect(answerText(inDm)).not.toContain('layoffs');
  });

  it('is not offered, and Slack is never searched, when the event carried no action_token', async () => {
    // Prepare
    seedDeployFreeze();
    const job = ask('search Slack for deploy freeze');
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(h.stack.slack.callsTo('assistant.search.context')).toEqual([]);
    expect(offered(0)).not.toContain('search_slack');
    expect(h.botMessages(job)).toHaveLength(1);
  });

  it('tells the model search is unavailable when Slack refuses it, and the answer goes on', async () => {
    // Prepare
    h.stack.slack.failNext('assistant.search.context', { error: 'missing_scope' });
    const job = ask('search Slack for deploy freeze', {
      actionToken: h.stack.slack.issueActionToken('U0ASKER'),
    });
    await h.enqueue(job);
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(answerText(job)).toContain('not available');
    expect(h.logs().some((e) => e.level === 'WARN' && e.slackError === 'missing_scope')).toBe(true);
  });

  it('remembers a line naming the lookup with the answer, not what it found', async () => {
    // Prepare
    seedDeployFreeze();
    const first = ask('search Slack for deploy freeze', {
      actionToken: h.stack.slack.issueActionToken('U0ASKER'),
    });
    const second = ask('thanks, and why?', { threadTs: first.threadTs });
    // Act
    await h.enqueue(first);
    await h.deliver();
    await h.enqueue(second);
    await h.deliver();
    // Assess
    const remembered = requests()
      .at(-1)!
      .body.messages.find((m) => m.role === 'assistant');
    expect(remembered?.content).toMatch(/^\(Looked up for this answer: searched Slack: deploy freeze\)/);
    const sent = requests().at(-1)!.body.messages;
    expect(sent.filter((m) => m.role === 'tool')).toEqual([]);
    expect(JSON.stringify(sent)).not.toContain('<<<UNTRUSTED search_slack');
  });
});

describe('a saved answer written by a redelivery', () => {
  it('is remembered with the line naming its lookups, like one written at once', async () => {
    // Prepare: once the search has run, Slack rate limits edits for 12 s, so the final edit goes
    // back to the queue with the answer saved in the claim; the redelivery writes it.
    seedDeployFreeze();
    const onCall = (call: { method: string }) => {
      if (call.method === 'assistant.search.context')
        h.stack.slack.failNext('chat.update', { rateLimited: { retryAfter: 12 } });
    };
    h.stack.slack.on('call', onCall);
    const first = ask('search Slack for deploy freeze', {
      actionToken: h.stack.slack.issueActionToken('U0ASKER'),
    });
    await h.enqueue(first);
    let handedBack: Awaited<ReturnType<typeof h.deliver>>;
    try {
      handedBack = await h.deliver();
    } finally {
      h.stack.slack.off('call', onCall);
    }
    expect(handedBack.response.batchItemFailures).toHaveLength(1);
    const modelCalls = requests().length;
    // Act: the redelivery writes the saved answer without the model.
    const again = await h.redeliver(handedBack, 2);
    expect(again?.batchItemFailures).toEqual([]);
    expect(requests()).toHaveLength(modelCalls);
    // Assess: the thread's memory holds the answer with its lookups.
    const memory = await h.deps.history.load({
      teamId: first.teamId,
      channel: first.channel,
      threadTs: first.threadTs,
    });
    const remembered = memory.find((t) => t.role === 'assistant');
    expect(remembered?.content).toMatch(/^\(Looked up for this answer: searched Slack: deploy freeze\)/);
  });
});

describe('read_link', () => {
  it('reads a page named in the question as readable text, not markup', async () => {
    // Prepare
    pages.page('/runbook', {
      body: '<html><head><title>Runbook</title></head><body><h1>Orders</h1><p>Restart the <b>consumer</b> first.</p><script>x()</script></body></html>',
    });
    const job = ask(`what does ${pages.origin}/runbook say?`);
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(pages.requests.map((r) => r.path)).toEqual(['/runbook']);
    const result = requests()[1]!.body.messages.at(-1)!.content as string;
    expect(result).toContain('Restart the consumer first.');
    expect(result).not.toContain('<b>');
    expect(answerText(job)).toContain('Restart the consumer first.');
  });

  it('runs the calls of one round in parallel', async () => {
    // Prepare
    pages.page('/a', { body: 'page A', headers: { 'content-type': 'text/plain' }, delayMs: 400 });
    pages.page('/b', { body: 'page B', headers: { 'content-type': 'text/plain' }, delayMs: 400 });
    const job = ask(`compare ${pages.origin}/a and ${pages.origin}/b`);
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess: the second page was asked for before the first one was answered.
    const [a, b] = pages.requests;
    expect(b!.at).toBeLessThan(a!.answeredAt!);
    expect(answerText(job)).toContain('page A');
    expect(answerText(job)).toContain('page B');
  });

  it.each([
    ['a private address', () => `${hidden.origin}/`, 'the address is not public'],
    ['a non-text type', () => `${pages.origin}/image.png`, 'not a text type'],
    ['an oversized page', () => `${pages.origin}/big`, 'larger than'],
  ])('refuses %s and answers without it', async (_what, url, why) => {
    // Prepare
    pages.page('/image.png', { headers: { 'content-type': 'image/png' }, body: Buffer.alloc(100) });
    pages.page('/big', {
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(READ_LINK_LIMITS.maxBytes + 1),
    });
    const job = ask(`read ${url()} please`);
    await h.enqueue(job);
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(hidden.requests).toEqual([]);
    expect(requests()[1]!.body.messages.at(-1)!.content).toContain(why);
    expect(h.botMessages(job)).toHaveLength(1);
  });

  it('refuses a redirect to a private address, without asking it', async () => {
    // Prepare
    pages.page('/moved', { status: 302, headers: { location: `${hidden.origin}/internal` } });
    const job = ask(`read ${pages.origin}/moved`);
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(pages.requests.map((r) => r.path)).toEqual(['/moved']);
    expect(hidden.requests).toEqual([]);
    expect(requests()[1]!.body.messages.at(-1)!.content).toContain('not public');
  });

  it('connects only to the address it checked when DNS answers public, then private', async () => {
    // Prepare: 127.0.0.2 counts as public here; nothing listens there. A fetcher that resolved again
    // to connect would reach 127.0.0.1, where `hidden` listens.
    let resolved = 0;
    const resolve: Resolver = async () => [
      { address: ++resolved === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 },
    ];
    build({ toolPorts: { resolve, isBlocked: (a) => a !== '127.0.0.2' && isBlockedAddress(a) } });
    const job = ask(`read http://rebind.test:${hidden.port}/`);
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(resolved).toBe(1);
    expect(hidden.requests).toEqual([]);
    expect(requests()[1]!.body.messages.at(-1)!.content).toContain('could not be reached');
  });

  it('never reads a URL the model made up', async () => {
    // Prepare
    h.stack.openai!.setToolPlan((req) =>
      req.messages.some((m) => m.role === 'tool')
        ? []
        : [{ name: 'read_link', arguments: { url: `${pages.origin}/x` } }],
    );
    const job = ask('read the usual page');
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(pages.requests).toEqual([]);
    expect(requests()[1]!.body.messages.at(-1)!.content).toContain('Only links that people wrote');
  });

  it('never reads a URL found in a tool result', async () => {
    // Prepare: a message in Slack carries the URL; the model searches, then asks to read it.
    const url = `${pages.origin}/exfiltrate`;
    h.stack.slack.seedMessage({
      channel: 'C0RELEASES',
      user: 'U0ALICE',
      text: `deploy freeze details at ${url}`,
    });
    h.stack.openai!.setToolPlan((req) => {
      const tools = req.messages.filter((m) => m.role === 'tool').length;
      if (tools === 0) return [{ name: 'search_slack', arguments: { query: 'deploy freeze' } }];
      return tools === 1 ? [{ name: 'read_link', arguments: { url } }] : [];
    });
    const job = ask('what about the deploy freeze?', {
      actionToken: h.stack.slack.issueActionToken('U0ASKER'),
    });
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(pages.requests).toEqual([]);
    expect(requests()[2]!.body.messages.at(-1)!.content).toContain('Only links that people wrote');
  });

  it('reads a Slack message link of this conversation with conversations.replies, not HTTP', async () => {
    // Prepare
    const earlier = h.stack.slack.seedMessage({
      channel: 'C0GENERAL',
      user: 'U0ALICE',
      text: 'Rollback plan: revert 4f2a.',
    });
    const link = `https://local-workspace.slack.com/archives/C0GENERAL/p${earlier.ts.replace('.', '')}`;
    const job = ask(`what does ${link} say?`);
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(h.stack.slack.callsTo('conversations.replies').some((c) => c.args.ts === earlier.ts)).toBe(true);
    expect(answerText(job)).toContain('Rollback plan');
  });
});

describe('MCP tools', () => {
  it('calls a tool of an MCP server as <server>__<tool>, with its headers', async () => {
    // Prepare
    const job = ask('is there an open incident? ask incidents about orders');
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(offered(0)).toEqual(
      expect.arrayContaining(['incidents__incident_status', 'incidents__slow_report']),
    );
    expect(mcp.calls).toEqual([
      { tool: 'incident_status', arguments: { service: 'orders' }, authorization: 'Bearer local-mcp' },
    ]);
    expect(answerText(job)).toContain('INC-2041');
  });

  it('leaves out the tools of an unreachable server and answers', async () => {
    // Prepare: a server nobody listens on.
    build({ tools: { mcpServers: [{ name: 'gone', url: `${hidden.origin.replace(/:\d+$/, ':9')}/mcp` }] } });
    const job = ask('ask gone about orders');
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(offered(0).some((n) => n.startsWith('gone__'))).toBe(false);
    expect(h.botMessages(job)).toHaveLength(1);
    expect(h.logs().filter((e) => e.message?.includes('MCP server could not be listed'))).toHaveLength(1);
  });

  it('stops a tool call that outlasts its time (the request is aborted) and answers without it', async () => {
    // Prepare: 16 s left → 3 s reserve, 10 s for the answer: 3 s for tools.
    h.stack.openai!.setToolPlan((req) =>
      req.messages.some((m) => m.role === 'tool')
        ? []
        : [{ name: 'incidents__slow_report', arguments: { topic: 'q3' } }],
    );
    const job = ask('a slow report please');
    await h.enqueue(job);
    // Act
    const { response } = await h.deliver(16_000);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    await waitFor('the MCP call aborted', () => mcp.calls[0]?.aborted === true);
    expect(requests()[1]!.body.messages.at(-1)!.content).toContain('took too long');
    expect(h.botMessages(job)).toHaveLength(1);
  });
});

describe('Stop', () => {
  it('pressed on the stream while a tool runs aborts the tool and the answer ends as stopped', async () => {
    // Prepare: native streaming; the tool never answers; the user presses Stop once the card shows.
    build({ streaming: 'native' });
    h.stack.openai!.setToolPlan((req) =>
      req.messages.some((m) => m.role === 'tool')
        ? []
        : [{ name: 'incidents__slow_report', arguments: { topic: 'q3' } }],
    );
    const onCall = (call: {
      method: string;
      args: Record<string, unknown>;
      response: { ok?: boolean; ts?: unknown };
    }) => {
      if (call.method === 'chat.startStream' && call.response.ok)
        h.stack.slack.pressStop(String(call.args.channel), String(call.response.ts));
    };
    h.stack.slack.on('call', onCall);
    const job = ask('a slow report please');
    await h.enqueue(job);
    try {
      // Act
      const { response } = await h.deliver(60_000);
      // Assess: the call aborted, and by Stop (its own time out would give the model a second call
      // with "took too long"); the message ends as the user stopped it.
      expect(response.batchItemFailures).toEqual([]);
      await waitFor('the MCP call aborted', () => mcp.calls[0]?.aborted === true);
      expect(requests()).toHaveLength(1);
      expect(h.botMessages(job).map((m) => m.streaming)).toEqual(['stopped_by_user']);
    } finally {
      h.stack.slack.off('call', onCall);
    }
  });
});

describe('the loop’s bounds', () => {
  it('makes at most AGENT_MAX_STEPS model calls, the last one for text only', async () => {
    // Prepare: a model that would search forever.
    build({ tools: { maxSteps: 3 } });
    h.stack.openai!.setToolPlan(() => [{ name: 'search_slack', arguments: { query: 'again' } }]);
    const job = ask('loop', { actionToken: h.stack.slack.issueActionToken('U0ASKER') });
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(requests()).toHaveLength(3);
    expect(requests()[2]!.body.tool_choice).toBe('none');
    expect(h.stack.slack.callsTo('assistant.search.context')).toHaveLength(2);
    expect(h.botMessages(job)).toHaveLength(1);
  });

  it('runs at most 8 tool calls per answer and answers the rest as not run', async () => {
    // Prepare
    for (let i = 0; i < 5; i++)
      pages.page(`/p${i}`, { body: `page ${i}`, headers: { 'content-type': 'text/plain' } });
    const urls = [0, 1, 2, 3, 4].map((i) => `${pages.origin}/p${i}`);
    h.stack.openai!.setToolPlan(() => urls.map((url) => ({ name: 'read_link', arguments: { url } })));
    const job = ask(`read ${urls.join(' ')}`);
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(pages.requests).toHaveLength(8);
    expect(requests()).toHaveLength(3);
    expect(requests()[2]!.body.tool_choice).toBe('none');
    const notRun = requests()[2]!.body.messages.filter(
      (m) => m.role === 'tool' && String(m.content).startsWith('Not run'),
    );
    expect(notRun).toHaveLength(2);
  });

  it('stops offering tools when the invocation’s time runs short, and still answers', async () => {
    // Prepare: the page never answers; after it is stopped there is no time for another round.
    pages.page('/hang', { delayMs: Number.POSITIVE_INFINITY });
    h.stack.openai!.setToolPlan(() => [{ name: 'read_link', arguments: { url: `${pages.origin}/hang` } }]);
    const job = ask(`read ${pages.origin}/hang`);
    await h.enqueue(job);
    // Act
    const { response } = await h.deliver(16_000);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(requests()).toHaveLength(2);
    expect(requests()[1]!.body.tool_choice).toBe('none');
    await waitFor('the page request aborted', () => pages.requests[0]?.abortedAt !== undefined);
    expect(h.botMessages(job)).toHaveLength(1);
  });

  it('answers without tools when the endpoint refuses them, and remembers that', async () => {
    // Prepare: its own model name, so the refusal remembered in Momento holds no other test's tools back.
    build({ toolPorts: { model: 'model-without-tools' } });
    h.stack.openai!.refuseTools(true);
    const first = ask(`read ${pages.origin}/x`);
    const second = ask('and another question');
    // Act
    await h.enqueue(first);
    await h.deliver();
    await h.enqueue(second);
    await h.deliver();
    // Assess
    const tried = requests().map((r) => (r.body.tools?.length ?? 0) > 0);
    expect(tried).toEqual([true, false, false]);
    expect(h.botMessages(first)).toHaveLength(1);
    expect(h.botMessages(second)).toHaveLength(1);
  });

  it('offers no tool at all with AGENT_TOOLS=off', async () => {
    // Prepare
    build({ tools: { off: true, enabled: [], mcpServers: [] } });
    const job = ask(`read ${pages.origin}/x`, { actionToken: h.stack.slack.issueActionToken('U0ASKER') });
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(requests()[0]!.body.tools).toBeUndefined();
    expect(mcp.lists).toBe(0);
  });
});

describe('logs', () => {
  it('hold tool names and lengths, never arguments or results', async () => {
    // Prepare: distinctive words in the question, a search result, a page and an MCP answer.
    h.stack.slack.seedMessage({
      channel: 'C0RELEASES',
      user: 'U0ALICE',
      text: 'quokka periwinkle Zanzibar notes',
    });
    pages.page('/secret', {
      body: 'marmalade xylophone lighthouse',
      headers: { 'content-type': 'text/plain' },
    });
    const job = ask(
      `search Slack for quokka and read ${pages.origin}/secret, ask incidents about tangerine`,
      {
        actionToken: h.stack.slack.issueActionToken('U0ASKER'),
      },
    );
    await h.enqueue(job);
    // Act
    await h.deliver();
    // Assess
    expect(
      h
        .logs()
        .filter((e) => e.message === 'tool call')
        .map((e) => e.tool),
    ).toEqual(expect.arrayContaining(['search_slack', 'read_link', 'incidents__incident_status']));
    const words = [
      'quokka',
      'periwinkle',
      'Zanzibar',
      'marmalade',
      'xylophone',
      'lighthouse',
      'tangerine',
      'secret',
    ];
    expect(h.logLines().filter((line) => words.some((w) => line.includes(w)))).toEqual([]);
  });
});
