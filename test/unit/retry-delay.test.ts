import { BadInputError, LlmError, RetryLaterError, SlackCallError } from '../../lib/errors';
import { failedRecordDelaySeconds, retryDelaySeconds } from '../../lib/queue/retry-delay';

const delivery = (receiveCount: number) => ({ receiveCount, maxReceiveCount: 5, baseSeconds: 10 });
const refusedToken = new SlackCallError('chat.postMessage', {
  slackError: 'invalid_auth',
  retryable: false,
  category: 'auth',
});

describe('failedRecordDelaySeconds', () => {
  it('backs off 10, 20, 40, 80 s for a failure another try may fix', () => {
    // Act
    const delays = [1, 2, 3, 4].map((n) => failedRecordDelaySeconds(new Error('boom'), delivery(n)));
    // Assess
    expect(delays).toEqual([10, 20, 40, 80]);
    expect(delays).toEqual([1, 2, 3, 4].map((n) => retryDelaySeconds(10, n)));
  });

  it('brings a refused token and unreadable input back at once, on every receive', () => {
    // Act
    const delays = [1, 2, 3, 4].flatMap((n) => [
      failedRecordDelaySeconds(refusedToken, delivery(n)),
      failedRecordDelaySeconds(new BadInputError('body', 'is not JSON'), delivery(n)),
    ]);
    // Assess
    expect(delays).toEqual(Array(8).fill(0));
  });

  it('never backs off after the last receive, whatever failed', () => {
    // Act
    const delays = [
      new Error('boom'),
      new LlmError('model down', { retryable: true }),
      new RetryLaterError('write later', 30),
    ].map((error) => failedRecordDelaySeconds(error, delivery(5)));
    // Assess
    expect(delays).toEqual([0, 0, 0]);
  });

  it('waits what a RetryLaterError asks for before the last receive, and backs off a retryable Slack error', () => {
    // Act
    const later = failedRecordDelaySeconds(new RetryLaterError('write later', 30), delivery(2));
    const busy = failedRecordDelaySeconds(
      new SlackCallError('chat.postMessage', { slackError: 'http_500', retryable: true }),
      delivery(2),
    );
    // Assess
    expect(later).toBe(30);
    expect(busy).toBe(20);
  });
});
