import { createLogger } from '../../lib/logger';
import { decodeJob } from '../../lib/queue/job';
import { ingressHarness } from '../support/ingress-harness';
import { envelope, functionUrlEvent, TEAM } from '../support/slack-events';

/** The assistant / agent surface events through the real ingress and a real SQS client (fauxqs). */

const h = ingressHarness('assistant', () => ({
  logger: createLogger('assistant-ingress-test', { logLevel: 'SILENT' }),
}));

const call = (body: unknown) => h.call(functionUrlEvent(body));

const drain = () => h.drain();

describe('ingress: assistant thread and agent view events', () => {
  it('queues a prompts job for assistant_thread_started, grouped by its thread', async () => {
    // Prepare
    const body = envelope({
      type: 'assistant_thread_started',
      assistant_thread: {
        user_id: 'U0ASKER',
        context: {},
        channel_id: 'D0DIRECT',
        thread_ts: '1729999327.187299',
      },
      event_ts: '1729999327.187300',
    });
    // Act
    const response = await call(body);
    // Assess
    expect(response.statusCode).toBe(200);
    const [message, ...more] = await drain();
    expect(more).toEqual([]);
    expect(decodeJob(message!.Body!)).toMatchObject({
      kind: 'prompts',
      channel: 'D0DIRECT',
      threadTs: '1729999327.187299',
    });
    expect(message!.Attributes?.MessageGroupId).toBe(`${TEAM}:D0DIRECT:1729999327.187299`);
  });

  it('queues a prompts job without a thread for app_home_opened on the Messages tab', async () => {
    // Act
    const response = await call(
      envelope({ type: 'app_home_opened', user: 'U0ASKER', channel: 'D0DIRECT', tab: 'messages' }),
    );
    // Assess
    expect(response.statusCode).toBe(200);
    const [message] = await drain();
    const job = decodeJob(message!.Body!);
    expect(job).toMatchObject({ kind: 'prompts', channel: 'D0DIRECT', user: 'U0ASKER' });
    expect(job.threadTs).toBeUndefined();
  });

  it.each([
    ['assistant_thread_context_changed', { type: 'assistant_thread_context_changed', assistant_thread: {} }],
    [
      'app_home_opened on the Home tab',
      { type: 'app_home_opened', user: 'U0ASKER', channel: 'D0DIRECT', tab: 'home' },
    ],
  ])('acknowledges %s and queues nothing', async (_what, event) => {
    // Act
    const response = await call(envelope(event));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(await drain()).toEqual([]);
  });

  it('answers 400 naming the field of a malformed assistant_thread_started', async () => {
    // Act
    const response = await call(
      envelope({ type: 'assistant_thread_started', assistant_thread: { user_id: 'U0ASKER' } }),
    );
    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!)).toMatchObject({ field: 'event.assistant_thread.channel_id' });
  });
});
