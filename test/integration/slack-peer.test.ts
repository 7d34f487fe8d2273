import {
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebClient,
} from '@slack/web-api';
import { type SlackCall, type SlackPeer, startSlackPeer } from '../../sandbox/peers/slack-peer';

/** The real WebClient against the local Slack peer, over a real socket. */

const CHANNEL = 'C0GENERAL';
const DM = 'D0ASKER';
const ASKER = 'U0ASKER';

// Slack's `[ERROR]` response messages would be printed by the WebClient's default logger.
const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

let peer: SlackPeer;
let clock = 1_700_000_000_000;

const client = (token: string | undefined = peer.token) =>
  new WebClient(token, {
    slackApiUrl: peer.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 5_000,
    logger: silent,
  });

/** What the SDK threw, for asserting on. */
async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

const platformError = async (promise: Promise<unknown>) => {
  const error = await thrown(promise);
  expect(error).toBeInstanceOf(WebAPIPlatformError);
  return (error as WebAPIPlatformError).data.error;
};

const askInChannel = () => peer.seedMessage({ channel: CHANNEL, user: ASKER, text: '<@UBOT0LOCAL> hi?' });

beforeAll(async () => {
  peer = await startSlackPeer({ now: () => clock });
});
afterAll(() => peer.close());
beforeEach(() => {
  peer.reset();
  clock += 60_000;
});

describe('Slack peer', () => {
  it('answers auth.test with the bot identity', async () => {
    // Act
    const result = await client().auth.test();

    // Assess
    expect(result).toMatchObject({ ok: true, user_id: 'UBOT0LOCAL', bot_id: 'B0LOCAL', team_id: 'T0LOCAL' });
    expect(peer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it('posts, updates and shows the thread with the seeded question first', async () => {
    // Prepare
    const question = askInChannel();

    // Act
    const posted = await client().chat.postMessage({
      channel: CHANNEL,
      thread_ts: question.ts,
      text: 'Thinking…',
    });
    const updated = await client().chat.update({
      channel: CHANNEL,
      ts: posted.ts!,
      text: 'The answer is 42.',
    });
    const replies = await client().conversations.replies({ channel: CHANNEL, ts: question.ts });

    // Assess
    expect(posted.message).toMatchObject({ text: 'Thinking…', user: 'UBOT0LOCAL', bot_id: 'B0LOCAL' });
    expect(updated).toMatchObject({ ok: true, ts: posted.ts, text: 'The answer is 42.' });
    expect(posted.ts! > question.ts).toBe(true);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(peer.thread(CHANNEL, question.ts)).toEqual([
      expect.objectContaining({ ts: question.ts, user: ASKER, text: '<@UBOT0LOCAL> hi?' }),
      expect.objectContaining({ ts: posted.ts, user: 'UBOT0LOCAL', text: 'The answer is 42.', edits: 1 }),
    ]);
    expect(replies.messages?.map((m) => m.text)).toEqual(['<@UBOT0LOCAL> hi?', 'The answer is 42.']);
    expect(replies.messages?.[0]).toMatchObject({ reply_count: 1, thread_ts: question.ts });
  });

  it('refuses to update a message that is not the bot’s or does not exist', async () => {
    // Prepare
    const question = askInChannel();

    // Act
    const notOwn = await platformError(
      client().chat.update({ channel: CHANNEL, ts: question.ts, text: 'x' }),
    );
    const unknown = await platformError(
      client().chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' }),
    );

    // Assess
    expect([notOwn, unknown]).toEqual(['cant_update_message', 'message_not_found']);
  });

  it('deletes the bot’s message out of the thread', async () => {
    // Prepare
    const question = askInChannel();
    const posted = await client().chat.postMessage({
      channel: CHANNEL,
      thread_ts: question.ts,
      text: 'oops',
    });

    // Act
    await client().chat.delete({ channel: CHANNEL, ts: posted.ts! });

    // Assess
    expect(peer.thread(CHANNEL, question.ts).map((m) => m.ts)).toEqual([question.ts]);
  });

  it('makes the SDK throw invalid_auth for a wrong token and not_authed for none', async () => {
    // Act
    const wrong = await platformError(client('xoxb-wrong').auth.test());
    const none = await platformError(client('').auth.test());

    // Assess
    expect([wrong, none]).toEqual(['invalid_auth', 'not_authed']);
    expect(peer.calls.map((c) => c.response.error)).toEqual(['invalid_auth', 'not_authed']);
  });

  it('answers msg_too_long and invalid_blocks past Slack’s length limits', async () => {
    // Prepare
    const section = (chars: number) => [
      { type: 'section', text: { type: 'mrkdwn', text: 'a'.repeat(chars) } },
    ];

    // Act
    const longText = await platformError(
      client().chat.postMessage({ channel: CHANNEL, text: 'a'.repeat(40_001) }),
    );
    const okText = await client().chat.postMessage({ channel: CHANNEL, text: 'a'.repeat(40_000) });
    const longBlock = await platformError(
      client().chat.postMessage({ channel: CHANNEL, blocks: section(3_001) }),
    );
    const okBlock = await client().chat.postMessage({ channel: CHANNEL, blocks: section(3_000) });
    const noText = await platformError(client().chat.postMessage({ channel: CHANNEL, text: '' }));

    // Assess
    expect([longText, longBlock, noText]).toEqual(['msg_too_long', 'invalid_blocks', 'no_text']);
    expect([okText.ok, okBlock.ok]).toEqual([true, true]);
  });

  it('parses form-encoded blocks back into objects', async () => {
    // Prepare
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*bold* & <https://x.y|link>' } }];

    // Act
    const posted = await client().chat.postMessage({ channel: DM, text: 'fallback', blocks });

    // Assess
    expect(peer.thread(DM, posted.ts!)[0]?.blocks).toEqual(blocks);
    expect(peer.callsTo('chat.postMessage')[0]?.args).toMatchObject({
      channel: DM,
      text: 'fallback',
      blocks,
    });
  });

  it('sends a 429 with Retry-After that the SDK throws as rate limited, once', async () => {
    // Prepare
    peer.failNext('chat.update', { rateLimited: { retryAfter: 7 } });
    const posted = await client().chat.postMessage({ channel: CHANNEL, text: 'first' });

    // Act
    const error = await thrown(client().chat.update({ channel: CHANNEL, ts: posted.ts!, text: 'second' }));
    const retried = await client().chat.update({ channel: CHANNEL, ts: posted.ts!, text: 'second' });

    // Assess
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 });
    expect(retried.ok).toBe(true);
    expect(peer.callsTo('chat.update').map((c) => c.status)).toEqual([429, 200]);
    expect(peer.thread(CHANNEL, posted.ts!)[0]).toMatchObject({ text: 'second', edits: 1 });
  });

  it('answers unknown_method, injected errors and HTTP 500s', async () => {
    // Prepare
    peer.failNext('chat.startStream', { error: 'unknown_method' });
    peer.failNext('chat.postMessage', { status: 500 });

    // Act
    const unknown = await platformError(client().apiCall('chat.teleport', { channel: CHANNEL }));
    const injected = await platformError(
      client().chat.startStream({ channel: DM, thread_ts: '1700000000.000100', markdown_text: 'x' }),
    );
    const http = await thrown(client().chat.postMessage({ channel: CHANNEL, text: 'x' }));

    // Assess
    expect([unknown, injected]).toEqual(['unknown_method', 'unknown_method']);
    expect(http).toBeInstanceOf(WebAPIHTTPError);
    expect(http).toMatchObject({ statusCode: 500 });
    expect(peer.thread(CHANNEL, '1700000000.000100')).toEqual([]);
  });

  it('streams: start needs a recipient in channels, append adds, stop finalises', async () => {
    // Prepare
    const question = askInChannel();
    const where = { channel: CHANNEL, thread_ts: question.ts };
    const recipient = { recipient_user_id: ASKER, recipient_team_id: 'T0LOCAL' };

    // Act
    const noRecipient = await platformError(client().chat.startStream({ ...where, markdown_text: 'Hel' }));
    const started = await client().chat.startStream({ ...where, ...recipient, markdown_text: 'Hel' });
    const live = peer.thread(CHANNEL, question.ts)[1];
    await client().chat.appendStream({ channel: CHANNEL, ts: started.ts!, markdown_text: 'lo, ' });
    const stopped = await client().chat.stopStream({
      channel: CHANNEL,
      ts: started.ts!,
      markdown_text: '**world**',
    });
    const late = await platformError(
      client().chat.appendStream({ channel: CHANNEL, ts: started.ts!, markdown_text: '!' }),
    );

    // Assess
    expect(noRecipient).toBe('invalid_arguments');
    expect(live).toMatchObject({ text: 'Hel', streaming: 'in_progress' });
    expect(stopped.message).toMatchObject({ text: 'Hello, **world**', thread_ts: question.ts });
    expect(late).toBe('message_not_in_streaming_state');
    expect(peer.thread(CHANNEL, question.ts)[1]).toMatchObject({
      text: 'Hello, **world**',
      streaming: 'stopped',
    });
  });

  it('takes the SDK’s chatStream helper, which sends chunks', async () => {
    // Prepare
    const question = peer.seedMessage({ channel: DM, user: ASKER, text: 'hi' });
    const stream = client().chatStream({ channel: DM, thread_ts: question.ts, buffer_size: 5 });

    // Act
    await stream.append({ markdown_text: 'Hello' });
    await stream.append({ markdown_text: ', chunks' });
    await stream.stop({ markdown_text: '!' });

    // Assess
    expect(peer.callsTo('chat.startStream')[0]?.args.chunks).toEqual([
      { type: 'markdown_text', text: 'Hello' },
    ]);
    expect(peer.thread(DM, question.ts)[1]).toMatchObject({ text: 'Hello, chunks!', streaming: 'stopped' });
  });

  it('answers feature_not_enabled while streaming is disabled', async () => {
    // Prepare
    const question = peer.seedMessage({ channel: DM, user: ASKER, text: 'hi' });
    const start = () =>
      client().chat.startStream({ channel: DM, thread_ts: question.ts, markdown_text: 'x' });
    peer.disable('streaming');

    // Act
    const disabled = await platformError(start());
    peer.enable('streaming');
    const enabled = await start();

    // Assess
    expect(disabled).toBe('feature_not_enabled');
    expect(enabled.ok).toBe(true);
  });

  it('lets a stream go stale after five idle minutes', async () => {
    // Prepare
    const question = peer.seedMessage({ channel: DM, user: ASKER, text: 'hi' });
    const started = await client().chat.startStream({
      channel: DM,
      thread_ts: question.ts,
      markdown_text: 'x',
    });
    clock += 5 * 60_000 + 1;

    // Act
    const error = await platformError(
      client().chat.appendStream({ channel: DM, ts: started.ts!, markdown_text: 'y' }),
    );

    // Assess
    expect(error).toBe('message_not_in_streaming_state');
  });

  it('keeps a thread status until the bot replies, and records every call live', async () => {
    // Prepare
    const question = askInChannel();
    const seen: SlackCall[] = [];
    peer.on('call', (call) => seen.push(call));

    // Act
    await client().assistant.threads.setStatus({
      channel_id: CHANNEL,
      thread_ts: question.ts,
      status: 'is thinking…',
    });
    const during = peer.status(CHANNEL, question.ts);
    await client().chat.postMessage({ channel: CHANNEL, thread_ts: question.ts, text: 'done' });
    await client().reactions.add({ channel: CHANNEL, timestamp: question.ts, name: 'eyes' });
    const again = await platformError(
      client().reactions.add({ channel: CHANNEL, timestamp: question.ts, name: 'eyes' }),
    );

    // Assess
    expect([during, peer.status(CHANNEL, question.ts)]).toEqual(['is thinking…', '']);
    expect(again).toBe('already_reacted');
    expect(peer.thread(CHANNEL, question.ts)[0]?.reactions).toEqual([
      { name: 'eyes', users: ['UBOT0LOCAL'], count: 1 },
    ]);
    expect(seen.map((c) => c.method)).toEqual([
      'assistant.threads.setStatus',
      'chat.postMessage',
      'reactions.add',
      'reactions.add',
    ]);
    expect(seen[0]?.at).toBeLessThan(seen[3]?.at ?? 0);
  });
});

describe('Slack peer: reading threads, people and files', () => {
  it('pages conversations.replies with a cursor, within oldest and latest', async () => {
    // Prepare: a parent and 5 replies.
    const parent = askInChannel();
    const replies = Array.from({ length: 5 }, (_, i) =>
      peer.seedMessage({ channel: CHANNEL, thread_ts: parent.ts, user: ASKER, text: `r${i}` }),
    );
    // Act
    const first = await client().conversations.replies({ channel: CHANNEL, ts: parent.ts, limit: 2 });
    const second = await client().conversations.replies({
      channel: CHANNEL,
      ts: parent.ts,
      limit: 2,
      cursor: first.response_metadata!.next_cursor!,
    });
    const window = await client().conversations.replies({
      channel: CHANNEL,
      ts: parent.ts,
      oldest: replies[0]!.ts,
      latest: replies[3]!.ts,
    });
    // Assess
    expect(first.messages!.map((m) => m.text)).toEqual(['<@UBOT0LOCAL> hi?', 'r0']);
    expect(first.has_more).toBe(true);
    expect(second.messages!.map((m) => m.text)).toEqual(['r1', 'r2']);
    expect(window.messages!.map((m) => m.text)).toEqual(['r1', 'r2']);
    expect(window.has_more).toBe(false);
    expect(window.response_metadata!.next_cursor).toBe('');
  });

  it('answers users.info for seeded people and user_not_found otherwise', async () => {
    // Prepare
    peer.seedUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Liddell', displayName: 'Alice' });
    // Act
    const { user } = await client().users.info({ user: 'U0ALICE' });
    // Assess
    expect(user).toMatchObject({ id: 'U0ALICE', name: 'alice', real_name: 'Alice Liddell' });
    expect(user!.profile!.display_name).toBe('Alice');
    expect(await platformError(client().users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
  });

  it('serves a seeded file at url_private to the bot token only, and lists it on its message', async () => {
    // Prepare
    const file = peer.seedFile({ name: 'notes.txt', mimetype: 'text/plain', bytes: 'hello' });
    const message = peer.seedMessage({ channel: CHANNEL, user: ASKER, text: 'see file', files: [file] });
    // Act
    const withToken = await fetch(file.url_private, { headers: { Authorization: `Bearer ${peer.token}` } });
    const without = await fetch(file.url_private);
    const { messages } = await client().conversations.replies({ channel: CHANNEL, ts: message.ts });
    // Assess
    expect(await withToken.text()).toBe('hello');
    expect(without.status).toBe(403);
    expect(messages![0]!.files![0]).toMatchObject({ id: file.id, name: 'notes.txt', size: 5 });
    expect(peer.downloads.map((d) => [d.authorized, d.status])).toEqual([
      [true, 200],
      [false, 403],
    ]);
  });

  it('redirects a file download when asked to', async () => {
    // Prepare
    const file = peer.seedFile({
      name: 'a.png',
      mimetype: 'image/png',
      bytes: 'x',
      redirectTo: 'http://elsewhere.test/a',
    });
    // Act
    const response = await fetch(file.url_private, {
      headers: { Authorization: `Bearer ${peer.token}` },
      redirect: 'manual',
    });
    // Assess
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('http://elsewhere.test/a');
  });
});

describe('rate limits per workspace (option)', () => {
  it('answers 429 with Retry-After once a method reached its limit in a workspace, other workspaces unaffected', async () => {
    // Prepare: channels `CW1…` belong to workspace TW1, the others to TW2.
    const limited = await startSlackPeer({
      rateLimits: { 'chat.postMessage': { perMinute: 2 } },
      teamOfChannel: (channel) => (channel.startsWith('CW1') ? 'TW1' : 'TW2'),
    });
    const web = new WebClient(limited.token, {
      slackApiUrl: limited.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logger: silent,
    });
    try {
      // Act
      await web.chat.postMessage({ channel: 'CW1A', text: 'one' });
      await web.chat.postMessage({ channel: 'CW1B', text: 'two' });
      const third = await web.chat.postMessage({ channel: 'CW1A', text: 'three' }).catch((e) => e);
      const elsewhere = await web.chat.postMessage({ channel: 'CW2A', text: 'other workspace' });
      // Assess
      expect(third).toBeInstanceOf(Error);
      expect((third as WebAPIRateLimitedError).code).toBe('slack_webapi_rate_limited_error');
      expect((third as WebAPIRateLimitedError).retryAfter).toBeGreaterThanOrEqual(59);
      expect(elsewhere.ok).toBe(true);
      expect(limited.calls.map((c) => c.status)).toEqual([200, 200, 429, 200]);
    } finally {
      await limited.close();
    }
  });
});
