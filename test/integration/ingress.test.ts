import { type SQSClient, SQSClient as Sqs } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createLogger } from '../../lib/logger';
import { decodeAnswerJob as decodeJob } from '../../lib/queue/job';
import { LOCAL_AWS_CREDENTIALS } from '../../sandbox/peers/sqs-peer';
import { captureLogs } from '../support/capture-logs';
import { ingressHarness } from '../support/ingress-harness';
import { lambdaContext } from '../support/lambda-context';
import { settlesWithin, startSilentServer } from '../support/silent-server';
import { BOT_USER, botMessage, dm, edit, functionUrlEvent, mention, SECRET } from '../support/slack-events';

const logger = createLogger('ingress-test', { logLevel: 'SILENT' });
const h = ingressHarness('ingress', () => ({ logger }));
const call = (event: ReturnType<typeof functionUrlEvent>) => h.call(event);

const drain = () => h.drain();

describe('ingress handler with a real SQS client against fauxqs', () => {
  it('queues a signed mention with thread group, event dedupe id and a small job', async () => {
    // Prepare
    const body = mention({ thread_ts: '1699990000.000100', text: `<@${BOT_USER}> 日本語で 🚀 please` });
    // Act
    const response = await call(functionUrlEvent(body));
    // Assess
    expect(response.statusCode).toBe(200);
    const [message, ...rest] = await drain();
    expect(rest).toHaveLength(0);
    expect(message?.Attributes?.MessageGroupId).toBe('T0LOCAL:C0GENERAL:1699990000.000100');
    expect(message?.Attributes?.MessageDeduplicationId).toBe(body.event_id);
    const job = decodeJob(message!.Body!);
    expect(job).toMatchObject({
      v: 1,
      eventId: body.event_id,
      teamId: 'T0LOCAL',
      channel: 'C0GENERAL',
      threadTs: '1699990000.000100',
      user: 'U0ASKER',
      text: `<@${BOT_USER}> 日本語で 🚀 please`,
      isDm: false,
    });
    expect(message!.Body!).not.toContain('authorizations'); // not the raw Slack body
  });

  it('answers url_verification with the challenge', async () => {
    const response = await call(
      functionUrlEvent({ type: 'url_verification', challenge: 'c-123', token: 't' }),
    );
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body!)).toEqual({ challenge: 'c-123' });
    expect(await drain()).toHaveLength(0);
  });

  it('queues an event once when Slack sends it four times (first try plus retries 1..3)', async () => {
    const body = mention();
    const statuses = [];
    for (const retryNum of [0, 1, 2, 3])
      statuses.push((await call(functionUrlEvent(body, { retryNum }))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(await drain()).toHaveLength(1);
  });

  it('queues a retry whose first delivery was never queued', async () => {
    // Prepare: the first delivery fails to reach SQS (the queue is unreachable for it).
    const body = mention();
    const broken = h.handlerWith(unreachableClient());
    // Act
    const first = (await broken(
      functionUrlEvent(body),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    const retry = await call(functionUrlEvent(body, { retryNum: 1 }));
    // Assess
    expect(first.statusCode).toBe(503);
    expect(retry.statusCode).toBe(200);
    expect(await drain()).toHaveLength(1);
  });

  it('queues a DM', async () => {
    expect((await call(functionUrlEvent(dm()))).statusCode).toBe(200);
    const [message] = await drain();
    expect(decodeJob(message!.Body!).isDm).toBe(true);
  });

  it.each([
    ['a bot message', botMessage()],
    ['an edit', edit()],
    ['the bot’s own message', dm({ user: BOT_USER })],
  ])('acknowledges %s and queues nothing', async (_name, body) => {
    expect((await call(functionUrlEvent(body))).statusCode).toBe(200);
    expect(await drain()).toHaveLength(0);
  });

  it('accepts a base64-encoded body', async () => {
    expect((await call(functionUrlEvent(mention({ text: 'ünïcödé ✓' }), { base64: true }))).statusCode).toBe(
      200,
    );
    expect(decodeJob((await drain())[0]!.Body!).text).toBe('ünïcödé ✓');
  });

  it('rejects a bad signature with 401 and no detail', async () => {
    const response = await call(functionUrlEvent(mention(), { secret: 'wrong' }));
    expect(response).toMatchObject({ statusCode: 401, body: '' });
    expect(await drain()).toHaveLength(0);
  });

  it('rejects a stale timestamp with 401', async () => {
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    expect((await call(functionUrlEvent(mention(), { timestamp: stale }))).statusCode).toBe(401);
  });

  it('rejects malformed JSON with 400 naming the body', async () => {
    const response = await call(functionUrlEvent('{"type": "event_callback",'));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!)).toMatchObject({ field: 'body' });
  });

  it('rejects an unexpected shape with 400 naming the field', async () => {
    const response = await call(functionUrlEvent({ ...mention(), event_id: 7 }));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!)).toMatchObject({ field: 'event_id' });
  });

  it('rejects a 2 MB body with 413', async () => {
    const response = await call(functionUrlEvent(mention({ text: 'x'.repeat(2 * 1024 * 1024) })));
    expect(response.statusCode).toBe(413);
    expect(await drain()).toHaveLength(0);
  });

  it('rejects a GET with 405', async () => {
    expect((await call(functionUrlEvent(mention(), { method: 'GET' }))).statusCode).toBe(405);
  });

  it('answers 503 when SQS is unreachable, so Slack retries', async () => {
    const broken = h.handlerWith(unreachableClient());
    const response = (await broken(
      functionUrlEvent(mention()),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(503);
  });
});

describe('handlers/ingress.ts as deployed', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('builds its SQS client from the standard AWS settings and queues a mention', async () => {
    // Prepare
    const fresh = h.peer.createFifoQueue('deployed');
    Object.assign(process.env, {
      SLACK_SIGNING_SECRET: SECRET,
      QUEUE_URL: fresh.queueUrl,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: h.peer.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    let deployed: typeof h.handler | undefined;
    jest.isolateModules(() => {
      deployed = require('../../handlers/ingress').handler;
    });
    // Act
    const response = (await deployed!(
      functionUrlEvent(mention()),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    // Assess
    expect(response.statusCode).toBe(200);
    expect(h.peer.countMessages(fresh.queueName).ready).toBe(1);
  });

  it('answers 503 within its 5 s timeout when SQS takes the connection and never answers', async () => {
    // Prepare: an SQS endpoint that accepts connections and is silent.
    const silent = await startSilentServer();
    Object.assign(process.env, {
      SLACK_SIGNING_SECRET: SECRET,
      QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs.fifo',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: silent.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    let deployed: typeof h.handler | undefined;
    jest.isolateModules(() => {
      deployed = require('../../handlers/ingress').handler;
    });
    const logs = captureLogs();
    try {
      // Act: bounded by the function's timeout (serverless.yml: 5 s), past which Lambda kills it.
      const response = (await settlesWithin(
        deployed!(functionUrlEvent(mention()), lambdaContext()),
        5_000,
        'the ingress',
      )) as APIGatewayProxyStructuredResultV2;
      // Assess: Slack gets a 503 (and retries), because the SDK's request timeout fired.
      expect(response.statusCode).toBe(503);
      const [failed] = logs.entries().filter((e) => e.message === 'event not queued; Slack will retry');
      expect(failed).toMatchObject({ error: { name: 'QueueSendError', cause: { name: 'TimeoutError' } } });
    } finally {
      logs.restore();
      await silent.close();
    }
  });

  it('fails at cold start naming the missing variable', () => {
    delete process.env.SLACK_SIGNING_SECRET;
    delete process.env.QUEUE_URL;
    expect(() => jest.isolateModules(() => require('../../handlers/ingress'))).toThrow(
      /SLACK_SIGNING_SECRET is required/,
    );
  });
});

/** A client pointed at a closed port: every send fails fast with a connection error. */
function unreachableClient(): SQSClient {
  return new Sqs({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    credentials: LOCAL_AWS_CREDENTIALS,
    maxAttempts: 1,
  });
}
