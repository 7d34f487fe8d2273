import {
  createMetrics,
  inWorkspace,
  recordAnswered,
  recordFailure,
  recordFeedbackVote,
  recordModelStream,
  recordRefusal,
  recordSlackRateLimited,
  recordStreamingPath,
} from '../../lib/metrics';

interface EmfLine {
  _aws: {
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

/** A metrics writer whose EMF lines land in an array. */
function capture() {
  const lines: EmfLine[] = [];
  const metrics = createMetrics('SlackGptBot/test', 'slack-worker', {
    write: (line) => lines.push(JSON.parse(line) as EmfLine),
  });
  return { metrics, lines };
}

describe('EMF lines (CloudWatch embedded metric format)', () => {
  it('carry an answer, its timings and tokens under the namespace and service', () => {
    // Prepare
    const { metrics, lines } = capture();
    // Act
    recordModelStream(metrics, {
      firstTokenMs: 420,
      completeMs: 3100,
      promptTokens: 812,
      completionTokens: 301,
    });
    recordAnswered(metrics, 3900);
    // Assess
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      service: 'slack-worker',
      TimeToFirstToken: 420,
      TimeToComplete: 3100,
      PromptTokens: 812,
      CompletionTokens: 301,
    });
    expect(lines[0]!._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'SlackGptBot/test',
      Dimensions: [['service']],
      Metrics: expect.arrayContaining([{ Name: 'TimeToFirstToken', Unit: 'Milliseconds' }]),
    });
    expect(lines[1]).toMatchObject({ Answers: 1, TimeToAnswer: 3900 });
  });

  it('carry failures both in total and by reason, and each dimensioned count on its own line', () => {
    // Prepare
    const { metrics, lines } = capture();
    // Act
    recordFailure(metrics, 'gave_up');
    recordSlackRateLimited(metrics, 'chat.update');
    recordStreamingPath(metrics, 'native');
    recordRefusal(metrics, 'user_quota');
    recordFeedbackVote(metrics, 'positive');
    recordAnswered(metrics, undefined);
    // Assess
    const pick = (line: EmfLine) => {
      const { _aws, service, ...rest } = line;
      return { dimensions: _aws.CloudWatchMetrics[0]!.Dimensions[0], ...rest };
    };
    expect(lines.map(pick)).toEqual([
      { dimensions: ['service'], Failures: 1 },
      { dimensions: ['service', 'reason'], reason: 'gave_up', FailuresByReason: 1 },
      { dimensions: ['service', 'method'], method: 'chat.update', SlackRateLimited: 1 },
      { dimensions: ['service', 'path'], path: 'native', StreamingPath: 1 },
      { dimensions: ['service', 'reason'], reason: 'user_quota', Refusals: 1 },
      { dimensions: ['service', 'vote'], vote: 'positive', FeedbackVotes: 1 },
      // The extra dimensions do not stick to later metrics.
      { dimensions: ['service'], Answers: 1 },
    ]);
  });

  it('name the workspace of the job they were written for, as metadata, not as a dimension', async () => {
    // Prepare
    const { metrics, lines } = capture();
    // Act: two jobs of two workspaces interleaved, and a metric outside any job.
    await Promise.all([
      inWorkspace('T0ACME', async () => {
        await Promise.resolve();
        recordFailure(metrics, 'gave_up');
      }),
      inWorkspace('T0GLOBEX', async () => {
        recordAnswered(metrics, 1200);
      }),
    ]);
    recordAnswered(metrics, 900);
    // Assess: each line names its own job's workspace; the dimensions are as without it.
    expect(
      lines.map((l) => [
        Object.keys(l).find((k) => k === 'Answers' || k.startsWith('Failures')),
        l.workspace,
      ]),
    ).toEqual([
      ['Answers', 'T0GLOBEX'],
      ['Failures', 'T0ACME'],
      ['FailuresByReason', 'T0ACME'],
      ['Answers', undefined],
    ]);
    expect(lines.map((l) => l._aws.CloudWatchMetrics[0]!.Dimensions[0])).toEqual([
      ['service'],
      ['service'],
      ['service', 'reason'],
      ['service'],
    ]);
  });
});
