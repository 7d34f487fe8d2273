import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { FEEDBACK_ACTION_ID, FEEDBACK_VALUES, feedbackBlock } from '../../lib/slack/feedback-block';
import { encodeSlackBody } from '../../sandbox/slack-request';
import { captureLogs } from '../support/capture-logs';
import { ingressHarness } from '../support/ingress-harness';
import { feedbackClick, functionUrlEvent, interactionEvent, TEAM } from '../support/slack-events';

/**
 * Feedback clicks: interactivity requests reach the same Function URL as events, as signed form
 * bodies. The real ingress handler with its real SQS client, against fauxqs.
 */

let logs: ReturnType<typeof captureLogs>;
const h = ingressHarness('feedback', () => ({
  logger: createLogger('feedback-test', { logLevel: 'INFO' }),
  metrics: createMetrics('SlackGptBotTest', 'slack-ingress', { write: (line) => emf.push(line) }),
}));

beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

const call = (event: ReturnType<typeof functionUrlEvent>) => h.call(event);

async function queued() {
  const out = await h.client.send(
    new ReceiveMessageCommand({ QueueUrl: h.queue.queueUrl, WaitTimeSeconds: 0 }),
  );
  return out.Messages ?? [];
}

/** EMF lines the ingress's metrics wrote. */
const emf: string[] = [];
beforeEach(() => {
  emf.length = 0;
});

const entries = (message: string) => logs.entries().filter((e) => e.message === message);

describe('feedback clicks at the ingress', () => {
  it('counts each vote as a FeedbackVotes metric with its direction', async () => {
    // Act
    await call(interactionEvent(feedbackClick({}, { value: FEEDBACK_VALUES.positive })));
    // Assess
    const [line, ...more] = emf.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({ FeedbackVotes: 1, vote: 'positive', service: 'slack-ingress' });
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
    expect(await queued()).toHaveLength(0);
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
    const block = feedbackBlock({ blockId: 'feedback-Ev1' });
    // Assess
    expect(block).toMatchObject({
      type: 'context_actions',
      block_id: 'feedback-Ev1',
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
