import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../../lib/logger';
import { decodeJob } from '../../lib/queue/job';
import { FEEDBACK_ACTION_ID, FEEDBACK_VALUES, feedbackBlock } from '../../lib/slack/feedback-block';
import { LOCAL_AWS_CREDENTIALS } from '../../sandbox/peers/sqs-peer';
import { encodeSlackBody } from '../../sandbox/slack-request';
import { captureLogs } from '../support/capture-logs';
import { ingressHarness } from '../support/ingress-harness';
import { lambdaContext } from '../support/lambda-context';
import { feedbackClick, functionUrlEvent, interactionEvent, TEAM } from '../support/slack-events';

/**
 * Feedback clicks: interactivity requests reach the same Function URL as events, as signed form
 * bodies. The real ingress handler with its real SQS client, against fauxqs.
 */

let logs: ReturnType<typeof captureLogs>;
const h = ingressHarness('feedback', () => ({
  logger: createLogger('feedback-test', { logLevel: 'INFO' }),
}));

beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

const call = (event: ReturnType<typeof functionUrlEvent>) => h.call(event);

async function queued() {
  const out = await h.client.send(
    new ReceiveMessageCommand({
      QueueUrl: h.queue.queueUrl,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
    }),
  );
  return out.Messages ?? [];
}

const entries = (message: string) => logs.entries().filter((e) => e.message === message);

describe('feedback clicks at the ingress', () => {
  it('queues each vote for the worker to count, with the click as its deduplication id', async () => {
    // Prepare
    const click = feedbackClick({}, { value: FEEDBACK_VALUES.positive, action_ts: '1796000000.000100' });
    // Act
    await call(interactionEvent(click));
    // Assess
    const [message, ...more] = await queued();
    expect(more).toHaveLength(0);
    const messageTs = (click.message as { ts: string }).ts;
    expect(decodeJob(message!.Body!)).toMatchObject({
      kind: 'feedback',
      teamId: TEAM,
      channel: 'C0GENERAL',
      messageTs,
      threadTs: '1700000000.000100',
      user: 'U0ASKER',
      value: 'good',
    });
    expect(message!.Attributes).toMatchObject({
      MessageDeduplicationId: `vote:${TEAM}:C0GENERAL:${messageTs}:U0ASKER:1796000000.000100`,
      MessageGroupId: `${TEAM}:C0GENERAL:${messageTs}:U0ASKER`,
    });
  });

  it('answers 503 when the vote cannot be queued, so the user sees the click failed', async () => {
    // Prepare
    const broken = h.handlerWith(
      new SQSClient({
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        credentials: LOCAL_AWS_CREDENTIALS,
        maxAttempts: 1,
      }),
    );
    // Act
    const response = (await broken(interactionEvent(feedbackClick()), lambdaContext())) as {
      statusCode: number;
    };
    // Assess
    expect(response.statusCode).toBe(503);
  });

  it('does not copy a 900 KB signed interaction type into its log line', async () => {
    // Act
    const response = await call(
      interactionEvent({ type: 'x'.repeat(900_000), team: { id: TEAM }, user: { id: 'U0ASKER' } }),
    );
    // Assess
    expect(response.statusCode).toBe(200);
    const lines = logs.text();
    expect(lines.length).toBeGreaterThan(0);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(10_000);
  });

  it('acknowledges a signed click with 200 and logs the vote with ids only', async () => {
    // Prepare
    const click = feedbackClick({}, { value: FEEDBACK_VALUES.negative });
    // Act
    const response = await call(interactionEvent(click));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('');
    const [vote, ...more] = entries('feedback');
    expect(more).toHaveLength(0);
    expect(vote).toMatchObject({
      level: 'INFO',
      team: TEAM,
      channel: 'C0GENERAL',
      messageTs: (click.message as { ts: string }).ts,
      thread: '1700000000.000100',
      user: 'U0ASKER',
      value: 'bad',
    });
    expect(JSON.stringify(logs.entries())).not.toContain('the answer');
  });

  it('accepts a base64-encoded form body, verified over the decoded bytes', async () => {
    // Act
    const response = await call(interactionEvent(feedbackClick(), { base64: true }));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(entries('feedback')[0]).toMatchObject({ value: 'good' });
  });

  it('refuses a click with a bad signature with 401 and records nothing', async () => {
    // Act
    const response = await call(interactionEvent(feedbackClick(), { secret: 'not-the-secret' }));
    // Assess
    expect(response.statusCode).toBe(401);
    expect(entries('feedback')).toHaveLength(0);
    expect(entries('rejected request')[0]).toMatchObject({ reason: 'signature_mismatch' });
  });

  it.each([
    ['a form body without payload', 'other=1', 'payload'],
    ['a payload that is not JSON', 'payload=%7Bnot-json', 'payload'],
    ['a click without a user', feedbackClick({ user: undefined }), 'user'],
    ['a click with an unknown value', feedbackClick({}, { value: 'maybe' }), 'actions.0.value'],
    ['a click without its message', feedbackClick({ message: undefined, container: {} }), 'message.ts'],
    ['block_actions without actions', feedbackClick({ actions: [] }), 'actions'],
  ])('answers 400 naming the field for %s', async (_what, payload, field) => {
    // Act
    const response = await call(interactionEvent(payload));
    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.headers).toMatchObject({ 'x-slack-no-retry': '1' });
    expect(JSON.parse(response.body!)).toMatchObject({ error: 'bad_request', field });
    expect(entries('rejected interaction')[0]).toMatchObject({ field });
  });

  it.each([
    ['a view_submission', { type: 'view_submission', team: { id: TEAM }, user: { id: 'U0ASKER' } }],
    ['a click on some other button', feedbackClick({}, { type: 'button', action_id: 'something_else' })],
  ])('acknowledges %s with 200 and ignores it', async (_what, payload) => {
    // Act
    const response = await call(interactionEvent(payload));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(entries('feedback')).toHaveLength(0);
    expect(entries('ignored interaction')).toHaveLength(1);
    expect(await queued()).toHaveLength(0);
  });
});

describe('feedbackBlock', () => {
  it('builds a context_actions block whose buttons carry the values the ingress records', () => {
    // Act
    const block = feedbackBlock();
    // Assess
    expect(block).toMatchObject({
      type: 'context_actions',
      elements: [
        {
          type: 'feedback_buttons',
          action_id: FEEDBACK_ACTION_ID,
          positive_button: { value: 'good' },
          negative_button: { value: 'bad' },
        },
      ],
    });
    for (const button of [block.elements[0]!.positive_button, block.elements[0]!.negative_button]) {
      expect(button.text.text.length).toBeLessThanOrEqual(75);
    }
  });
});

describe('events/feedback-click.json as npm start and npm run replay send it', () => {
  it('goes as a signed form body and is recorded as a vote', async () => {
    // Prepare
    const click = JSON.parse(readFileSync(resolve(__dirname, '../../events/feedback-click.json'), 'utf8'));
    const { raw, contentType } = encodeSlackBody(click);
    // Act
    const response = await call(functionUrlEvent(raw, { headers: { 'content-type': contentType } }));
    // Assess
    expect(contentType).toBe('application/x-www-form-urlencoded');
    expect(response.statusCode).toBe(200);
    expect(entries('feedback')[0]).toMatchObject({
      channel: 'D0DIRECT',
      messageTs: '1732550010.300400',
      value: 'good',
    });
  });
});
