import { AsyncLocalStorage } from 'node:async_hooks';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * The bot's CloudWatch metrics, written as embedded metric format (EMF) log lines by Powertools
 * Metrics: CloudWatch Logs extracts them, no API call is made and nothing waits on them
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html,
 * https://docs.powertools.aws.dev/lambda/typescript/latest/features/metrics/).
 * Every function here writes its line at once, so nothing is lost when an invocation fails.
 * Names are a contract with the dashboard and alarm in `serverless.yml`.
 */
export const METRIC = {
  answers: 'Answers',
  failures: 'Failures',
  failuresByReason: 'FailuresByReason',
  retries: 'Retries',
  answerLatency: 'TimeToAnswer',
  firstToken: 'TimeToFirstToken',
  complete: 'TimeToComplete',
  promptTokens: 'PromptTokens',
  completionTokens: 'CompletionTokens',
  slackRateLimited: 'SlackRateLimited',
  streamingPath: 'StreamingPath',
  refusals: 'Refusals',
  feedbackVotes: 'FeedbackVotes',
} as const;

/**
 * Creates the metrics writer of one function; `service` becomes the `service` dimension.
 * @param options.write receives each EMF line instead of stdout (tests, quiet local runs).
 *   Powertools has no option for its output, so its `console` field is replaced: it is the only
 *   thing Powertools writes EMF lines through (Metrics.js `publishStoredMetrics`).
 */
export function createMetrics(
  namespace: string,
  service: string,
  options: { write?: (line: string) => void } = {},
): Metrics {
  const metrics = new Metrics({ namespace, serviceName: service });
  const { write } = options;
  if (write) {
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') write(line);
        done();
      },
    });
    (metrics as unknown as { console: Console }).console = new Console({ stdout, stderr: stdout });
  }
  return metrics;
}

/** The workspace of the job being answered, for {@link inWorkspace}. */
const jobWorkspace = new AsyncLocalStorage<string>();

/**
 * Runs `work` so that every metric it writes names workspace `teamId`, as EMF metadata
 * (`"workspace": "T…"` in the line): CloudWatch Logs Insights can count any metric per workspace,
 * while CloudWatch's metrics stay one per name and dimension — a workspace dimension would make a
 * billed custom metric of each metric for every installed workspace.
 */
export function inWorkspace<T>(teamId: string, work: () => T): T {
  return jobWorkspace.run(teamId, work);
}

/** Writes what is stored as one EMF line, with the job's workspace when there is one. */
function publish(metrics: Metrics): void {
  const workspace = jobWorkspace.getStore();
  if (workspace) metrics.addMetadata('workspace', workspace);
  metrics.publishStoredMetrics();
}

/**
 * Metrics are a nicety: a failure to write one (Powertools validates names, values and the count
 * of dimensions) must never fail an answer that was paid for, so it is dropped.
 */
function quietly(write: () => void): void {
  try {
    write();
  } catch {
    // dropped: see above
  }
}

/**
 * One count with one extra dimension, on its own line, {@link quietly}. Not `singleMetric()`: that
 * builds a new writer on stdout. Every function here publishes at once (and synchronously), so
 * nothing else is stored when the dimension is added; publishing clears it again.
 */
function countBy(metrics: Metrics, name: string, dimension: [string, string], value = 1): void {
  quietly(() => {
    metrics.addDimension(dimension[0], dimension[1]);
    metrics.addMetric(name, MetricUnit.Count, value);
    publish(metrics);
  });
}

/** A question answered; `latencyMs` from Slack's event to the finished reply. */
export function recordAnswered(metrics: Metrics, latencyMs: number | undefined): void {
  quietly(() => {
    metrics.addMetric(METRIC.answers, MetricUnit.Count, 1);
    if (latencyMs !== undefined && latencyMs >= 0) {
      metrics.addMetric(METRIC.answerLatency, MetricUnit.Milliseconds, latencyMs);
    }
    publish(metrics);
  });
}

/**
 * A question that failed: `reason` is what went wrong (`gave_up`, an error class such as
 * `LlmError`). `Failures` has no reason dimension so the failure-rate alarm can use it directly.
 */
export function recordFailure(metrics: Metrics, reason: string): void {
  quietly(() => {
    metrics.addMetric(METRIC.failures, MetricUnit.Count, 1);
    publish(metrics);
    countBy(metrics, METRIC.failuresByReason, ['reason', reason]);
  });
}

/** An attempt that failed and goes back to the queue for another try. */
export function recordRetry(metrics: Metrics, reason: string): void {
  countBy(metrics, METRIC.retries, ['reason', reason]);
}

/** One model stream: time to its first token and to its end, and the tokens it used. */
export function recordModelStream(
  metrics: Metrics,
  stream: { firstTokenMs?: number; completeMs: number; promptTokens?: number; completionTokens?: number },
): void {
  quietly(() => {
    if (stream.firstTokenMs !== undefined) {
      metrics.addMetric(METRIC.firstToken, MetricUnit.Milliseconds, stream.firstTokenMs);
    }
    metrics.addMetric(METRIC.complete, MetricUnit.Milliseconds, stream.completeMs);
    if (stream.promptTokens !== undefined) {
      metrics.addMetric(METRIC.promptTokens, MetricUnit.Count, stream.promptTokens);
    }
    if (stream.completionTokens !== undefined) {
      metrics.addMetric(METRIC.completionTokens, MetricUnit.Count, stream.completionTokens);
    }
    publish(metrics);
  });
}

/** Slack answered HTTP 429 to `method`. */
export function recordSlackRateLimited(metrics: Metrics, method: string): void {
  countBy(metrics, METRIC.slackRateLimited, ['method', method]);
}

/** Which reply path an answer took: `native` (chat.startStream…) or `edit` (post + chat.update). */
export function recordStreamingPath(metrics: Metrics, path: 'native' | 'edit' | (string & {})): void {
  countBy(metrics, METRIC.streamingPath, ['path', path]);
}

/** A question refused: `allowlist`, `user_quota` or `team_quota`. */
export function recordRefusal(metrics: Metrics, reason: string): void {
  countBy(metrics, METRIC.refusals, ['reason', reason]);
}

/**
 * A feedback vote counted (lib/worker/count-vote.ts): `count` is +1 for a vote, -1 for one taken
 * back when its user changed it, so the sum per direction is the votes as they stand.
 */
export function recordFeedbackVote(metrics: Metrics, vote: 'positive' | 'negative', count = 1): void {
  countBy(metrics, METRIC.feedbackVotes, ['vote', vote], count);
}

export type { Metrics };
