import { LogLevel, WebClient } from '@slack/web-api';
import { DEFAULT_SUGGESTED_PROMPTS } from '../../lib/config-variables';
import { createLogger } from '../../lib/logger';
import type { PromptsJob } from '../../lib/queue/job';
import { setThreadTitle, slackAssistantThreads } from '../../lib/slack/assistant-threads';
import { workerHarness } from '../support/worker-harness';

/**
 * Suggested prompts and thread titles: the real worker and the real `WebClient` against the local
 * Slack peer, jobs through a local SQS FIFO queue.
 */

const h = workerHarness({ name: 'prompts', captureLogs: true });
let n = 0;

function promptsJob(overrides: Partial<PromptsJob> = {}): PromptsJob {
  return {
    v: 1,
    kind: 'prompts',
    eventId: `EvPROMPTS${++n}${Date.now()}`,
    teamId: 'T0LOCAL',
    channel: 'D0DIRECT',
    threadTs: `1729999${String(n).padStart(3, '0')}.187299`,
    user: 'U0ASKER',
    receivedAt: Date.now(),
    ...overrides,
  };
}

async function deliver(job: PromptsJob) {
  await h.enqueue(job);
  return (await h.deliver()).response;
}

const warnings = () => h.logs().filter((e) => e.level === 'WARN');

describe('worker: suggested prompts', () => {
  it('sets the configured prompts in the assistant thread and posts nothing', async () => {
    // Prepare
    const job = promptsJob();
    // Act
    const response = await deliver(job);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.stack.slack.suggestedPrompts(job.channel, job.threadTs)).toEqual({
      prompts: DEFAULT_SUGGESTED_PROMPTS,
    });
    expect(h.stack.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(h.stack.slack.callsTo('chat.startStream')).toHaveLength(0);
  });

  it('sets them without thread_ts on the agent view', async () => {
    // Prepare
    const job = promptsJob({ threadTs: undefined });
    // Act
    const response = await deliver(job);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [call] = h.stack.slack.callsTo('assistant.threads.setSuggestedPrompts');
    expect(call!.args).not.toHaveProperty('thread_ts');
    expect(h.stack.slack.suggestedPrompts(job.channel)?.prompts).toHaveLength(
      DEFAULT_SUGGESTED_PROMPTS.length,
    );
  });

  it.each([['missing_scope'], ['ratelimited']])(
    'logs a refusal (%s) at WARN and completes the record',
    async (slackError) => {
      // Prepare
      h.stack.slack.failNext(
        'assistant.threads.setSuggestedPrompts',
        slackError === 'ratelimited' ? { rateLimited: { retryAfter: 1 } } : { error: slackError },
      );
      // Act
      const response = await deliver(promptsJob());
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(warnings()).toEqual([
        expect.objectContaining({
          message: 'Slack refused the suggested prompts; nothing more to do',
          method: 'assistant.threads.setSuggestedPrompts',
          slackError,
        }),
      ]);
    },
  );
});

describe('setThreadTitle', () => {
  const client = () =>
    new WebClient(h.stack.slack.token, {
      slackApiUrl: h.stack.slack.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    });
  const logger = () => createLogger('title-test', { logLevel: 'INFO' });

  it('titles the thread from the first question, shortened to one line', async () => {
    // Prepare
    const question =
      'How do I keep   the order of messages\nin an SQS FIFO queue when a consumer fails halfway through?';
    // Act
    const set = await setThreadTitle(
      slackAssistantThreads(client()),
      { channel: 'D0DIRECT', threadTs: '1729999327.187299', question },
      logger(),
    );
    // Assess
    expect(set).toBe(true);
    const title = h.stack.slack.title('D0DIRECT', '1729999327.187299')!;
    expect(title).toMatch(/^How do I keep the order of messages in an SQS FIFO queue/);
    expect(title.length).toBeLessThanOrEqual(60);
    expect(title).not.toContain('\n');
  });

  it('returns false and warns without the question when Slack refuses', async () => {
    // Prepare
    h.stack.slack.failNext('assistant.threads.setTitle', { error: 'missing_scope' });
    const question = 'a secret question about payroll';
    // Act
    const set = await setThreadTitle(
      slackAssistantThreads(client()),
      { channel: 'D0DIRECT', threadTs: '1729999327.187299', question },
      logger(),
    );
    // Assess
    expect(set).toBe(false);
    expect(warnings()).toEqual([expect.objectContaining({ slackError: 'missing_scope' })]);
    expect(JSON.stringify(h.logs())).not.toContain('payroll');
  });
});

describe('the Slack peer: assistant.threads.setSuggestedPrompts as Slack validates it', () => {
  const quiet = {
    debug() {},
    info() {},
    warn() {},
    error() {},
    setLevel() {},
    getLevel: () => LogLevel.ERROR,
    setName() {},
  };
  const client = () =>
    new WebClient(h.stack.slack.token, {
      slackApiUrl: h.stack.slack.url,
      retryConfig: { retries: 0 },
      logger: quiet,
    });
  const refusal = async (args: Record<string, unknown>) => {
    const error = await client()
      .apiCall('assistant.threads.setSuggestedPrompts', args)
      .catch((e: { data?: { error?: string; response_metadata?: { messages?: string[] } } }) => e);
    return (error as { data?: { error?: string; response_metadata?: { messages?: string[] } } }).data;
  };
  const prompt = { title: 't', message: 'm' };

  it.each([
    [
      'five prompts',
      { channel_id: 'D0DIRECT', prompts: Array(5).fill(prompt) },
      'invalid_arguments',
      /no more than 4 items allowed \[json-pointer:\/prompts\]/,
    ],
    [
      'a prompt without a message',
      { channel_id: 'D0DIRECT', prompts: [{ title: 't' }] },
      'invalid_arguments',
      /missing required field: message \[json-pointer:\/prompts\/0\/message\]/,
    ],
    ['no prompts', { channel_id: 'D0DIRECT' }, 'invalid_arguments', /missing required field: prompts/],
    ['no channel', { prompts: [prompt] }, 'channel_not_found', undefined],
  ])('refuses %s', async (_what, args, error, message) => {
    // Act
    const data = await refusal(args);
    // Assess
    expect(data?.error).toBe(error);
    if (message) expect(data?.response_metadata?.messages?.join(' ')).toMatch(message);
    expect(h.stack.slack.suggestedPrompts('D0DIRECT')).toBeUndefined();
  });
});
