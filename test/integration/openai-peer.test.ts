import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import OpenAI, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import {
  answerOfLength,
  defaultAnswer,
  type OpenAIPeer,
  startOpenAIPeer,
  tokenize,
} from '../../sandbox/peers/openai-peer';

/** The real openai client against the local OpenAI peer, over a real socket. */

const MODEL = 'gpt-4o-mini';
const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are helpful.' },
  { role: 'user', content: 'What is a FIFO queue?' },
];

let peer: OpenAIPeer;
let openai: OpenAI;

/** Streams a completion, collecting the text and every chunk until it ends or throws. */
async function collect(options: { includeUsage?: boolean } = {}) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  let text = '';
  let error: unknown;
  try {
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages,
      stream: true,
      ...(options.includeUsage && { stream_options: { include_usage: true } }),
    });
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
  } catch (caught) {
    error = caught;
  }
  return { chunks, text, error };
}

beforeAll(async () => {
  peer = await startOpenAIPeer();
  openai = new OpenAI({ baseURL: peer.url, apiKey: 'x', maxRetries: 0, timeout: 5_000 });
});
afterAll(() => peer.close());
beforeEach(() => peer.reset());

describe('OpenAI peer', () => {
  it('streams exactly the default answer, one token per chunk, role first and stop last', async () => {
    // Prepare
    const expected = defaultAnswer({ model: MODEL, messages });

    // Act
    const { chunks, text, error } = await collect();

    // Assess
    expect(error).toBeUndefined();
    expect(text).toBe(expected);
    expect(text).toContain('You said: "What is a FIFO queue?"');
    expect(text).toContain('I received **2 messages**');
    expect(chunks).toHaveLength(tokenize(expected).length + 2);
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: '' });
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks[1]).toMatchObject({ object: 'chat.completion.chunk', model: MODEL, id: chunks[0]?.id });
    expect(peer.requests[0]?.body).toMatchObject({ model: MODEL, messages, stream: true });
  });

  it('ends with a usage chunk when include_usage is asked for', async () => {
    // Act
    const { chunks } = await collect({ includeUsage: true });

    // Assess
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(tokenize(defaultAnswer({ model: MODEL, messages })).length);
    expect(last?.usage?.total_tokens).toBe(
      (last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0),
    );
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers without streaming as a chat.completion', async () => {
    // Prepare
    peer.setAnswer('Plain **answer**.');

    // Act
    const completion = await openai.chat.completions.create({ model: MODEL, messages });

    // Assess
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Plain **answer**.' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(tokenize('Plain **answer**.').length);
  });

  it('streams a 15,000-character Markdown answer intact', async () => {
    // Prepare
    const long = answerOfLength(15_000);
    peer.setAnswer(long);

    // Act
    const { text } = await collect();

    // Assess
    expect(long).toHaveLength(15_000);
    expect(long.match(/```/g)?.length ?? 0).toBeGreaterThan(40);
    expect((long.match(/```/g)?.length ?? 0) % 2).toBe(0);
    expect(text).toBe(long);
  });

  it('answers HTTP errors the SDK types: 500, 429 with retry-after, 400, 401', async () => {
    // Prepare
    peer.failNext({ status: 500 });
    peer.failNext({ status: 429, retryAfter: 3 });
    peer.failNext({ status: 400 });
    peer.failNext({ status: 401 });

    // Act
    const errors = [];
    for (let i = 0; i < 4; i++) errors.push((await collect()).error);

    // Assess
    const [server, limited, bad, auth] = errors;
    expect(server).toBeInstanceOf(InternalServerError);
    expect(server).toMatchObject({ status: 500, type: 'server_error' });
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect((limited as RateLimitError).headers.get('retry-after')).toBe('3');
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(auth).toBeInstanceOf(AuthenticationError);
    expect(peer.requests).toHaveLength(4);
  });

  it('throws APIError from an error frame after some text', async () => {
    // Prepare
    peer.failNext({ errorFrameAfterTokens: 3 });

    // Act
    const { text, error } = await collect();

    // Assess
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: undefined, type: 'server_error' });
    expect(text).toBe(
      tokenize(defaultAnswer({ model: MODEL, messages }))
        .slice(0, 3)
        .join(''),
    );
  });

  it('throws when the socket drops mid-stream, after some text', async () => {
    // Prepare
    peer.failNext({ dropAfterTokens: 4 });

    // Act
    const { text, error } = await collect();

    // Assess
    // undici's TypeError comes from outside jest's sandbox, so `instanceof TypeError` is false here.
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(text).toBe(
      tokenize(defaultAnswer({ model: MODEL, messages }))
        .slice(0, 4)
        .join(''),
    );
    expect(peer.requests[0]?.finishedAt).toBeUndefined();
  });

  it('cuts the answer off with finish_reason content_filter', async () => {
    // Prepare
    peer.failNext({ contentFilter: true });
    const tokens = tokenize(defaultAnswer({ model: MODEL, messages }));

    // Act
    const { chunks, text } = await collect();

    // Assess
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('content_filter');
    expect(text).toBe(tokens.slice(0, Math.ceil(tokens.length / 2)).join(''));
  });

  it('waits tokenDelayMs before each token', async () => {
    // Prepare
    peer.setAnswer('one two three four five six');
    peer.setTokenDelay(25);

    // Act
    const { text } = await collect();

    // Assess
    const request = peer.requests[0];
    expect(text).toBe('one two three four five six');
    expect((request?.firstTokenAt ?? 0) - (request?.at ?? 0)).toBeGreaterThanOrEqual(20);
    expect((request?.finishedAt ?? 0) - (request?.firstTokenAt ?? 0)).toBeGreaterThanOrEqual(5 * 20);
  });

  it('refuses, as OpenAI does, an image data URL whose bytes are no image, and takes a real PNG', async () => {
    // Prepare: an HTML sign-in page labelled image/png, and a real PNG.
    const png = readFileSync(resolve(__dirname, '../../events/files/architecture.png'));
    const html = Buffer.from('<!DOCTYPE html><html><title>Sign in | Slack</title></html>');
    const ask = (bytes: Buffer) =>
      openai.chat.completions.create({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${bytes.toString('base64')}` } },
            ],
          },
        ],
      });

    // Act
    const refused = await ask(html).catch((e: unknown) => e);
    const answered = await ask(png);

    // Assess
    expect(refused).toBeInstanceOf(BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: 'invalid_image_format' });
    expect((refused as Error).message).toContain('unsupported image');
    expect(answered.choices[0]?.message.content).toContain('**1 image**');
  });

  it('lists models', async () => {
    // Act
    const models = await openai.models.list();

    // Assess
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });
});
