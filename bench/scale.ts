import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { createMetrics } from '../lib/metrics';
import type { AnswerJob } from '../lib/queue/job';
import { encodeJob } from '../lib/queue/job';
import { toMrkdwn } from '../lib/slack/mrkdwn';
import { buildWorkerDeps } from '../lib/worker/worker-deps';
import { createWorkerHandler } from '../lib/worker/worker-handler';
import { lambdaContext } from '../sandbox/lambda-context';
import { startLocalStack } from '../sandbox/local-stack';
import type { SlackPeerOptions } from '../sandbox/peers/slack-peer';
import { toSqsEvent } from '../sandbox/sqs-event';
import { answerOfTokens } from './streaming';

/**
 * Slack's documented limits per method and workspace (https://docs.slack.dev/apis/web-api/rate-limits),
 * as the Slack peer enforces them here: no more than `perMinute` calls in any 60 s.
 */
export const SLACK_TIERS: NonNullable<SlackPeerOptions['rateLimits']> = {
  'chat.update': { perMinute: 50 },
  'chat.delete': { perMinute: 50 },
  'chat.appendStream': { perMinute: 100 },
  'chat.startStream': { perMinute: 20 },
  'chat.stopStream': { perMinute: 20 },
  'chat.postMessage': { perMinute: 60, per: 'channel' },
  'conversations.replies': { perMinute: 50 },
};

/** Channel `CW03N07` is answer 7 of workspace `TW03`. */
const channelOf = (team: number, answer: number) =>
  `CW${String(team).padStart(2, '0')}N${String(answer).padStart(2, '0')}`;
const teamOfChannel = (channel: string) => `T${channel.slice(1, channel.indexOf('N'))}`;

/** One Slack call of the run, as the peer answered it. */
export interface ScaleCall {
  method: string;
  team: string;
  channel: string;
  /** Seconds from the start of the run. */
  t: number;
  status: number;
  /** Characters of the text it showed (edits, appends), when any. */
  chars?: number;
}

/** What one concurrent run measured. */
export interface ScaleRun {
  label: string;
  path: 'edit' | 'native';
  workspaces: number;
  answersPerWorkspace: number;
  budget: boolean;
  /** Calls answered 429 by the peer. */
  rateLimited: number;
  /** Answers whose thread ends with one reply showing the whole answer. */
  complete: number;
  /** Answers that reported a failed record. */
  failed: number;
  /** Seconds from the start to each answer's completion (its invocation returning). */
  completionSeconds: number[];
  /** Seconds of the model's stream per answer (the same for every answer). */
  streamSeconds: number;
  calls: ScaleCall[];
  /** One answer's tokens and writes, for the timeline picture. */
  timeline: {
    channel: string;
    firstTokenS: number;
    lastTokenS: number;
    writes: Array<{ t: number; chars: number }>;
  };
}

/**
 * Starts `workspaces × answersPerWorkspace` answers at the same instant, each in its own channel and
 * in its own "Lambda" (its own worker handler, Slack and Momento clients), against a Slack peer
 * that enforces {@link SLACK_TIERS} per workspace, and waits for all of them.
 */
export async function measureConcurrentAnswers(options: {
  label: string;
  path: 'edit' | 'native';
  workspaces: number;
  answersPerWorkspace: number;
  budget: boolean;
  tokens: number;
  tokenDelayMs: number;
}): Promise<ScaleRun> {
  const stack = await startLocalStack({
    tokenDelayMs: options.tokenDelayMs,
    env: { SLACK_STREAMING: options.path, SLACK_WRITE_BUDGET: options.budget ? 'shared' : 'off' },
    slackLimits: { rateLimits: SLACK_TIERS, teamOfChannel },
  });
  const logger = new Logger({ serviceName: 'bench-scale', logLevel: 'SILENT' });
  const answer = answerOfTokens(options.tokens);
  stack.openai!.setAnswer(answer);
  const lambdas: Array<ReturnType<typeof buildWorkerDeps>> = [];
  try {
    const jobs: AnswerJob[] = [];
    for (let w = 1; w <= options.workspaces; w++) {
      for (let a = 1; a <= options.answersPerWorkspace; a++) {
        const channel = channelOf(w, a);
        const ts = `1700004${String(w).padStart(2, '0')}${String(a).padStart(2, '0')}.000100`;
        stack.slack.seedMessage({ channel, ts, user: 'U0ASKER', text: 'question' });
        jobs.push({
          v: 1,
          eventId: `EvSCALE${w}X${a}`,
          teamId: teamOfChannel(channel),
          channel,
          threadTs: ts,
          ts,
          user: 'U0ASKER',
          text: `<@${stack.slack.botUserId}> answer in ${channel}`,
          isDm: false,
          receivedAt: Date.now(),
        });
      }
    }
    const handlers = jobs.map(() => {
      const deps = buildWorkerDeps(stack.workerConfig, logger, {
        sqs: stack.sqs.client(),
        // EMF lines are log output for CloudWatch; here they would only flood the bench's output.
        metrics: createMetrics('bench', 'slack-worker', { write: () => undefined }),
      });
      lambdas.push(deps);
      return createWorkerHandler(deps);
    });
    const t0 = performance.now();
    const seconds = (at: number) => (at - t0) / 1000;
    const results = await Promise.all(
      jobs.map(async (job, i) => {
        const event = toSqsEvent(
          [
            {
              MessageId: `m-${job.eventId}`,
              ReceiptHandle: `r-${job.eventId}`,
              Body: encodeJob(job),
              Attributes: { ApproximateReceiveCount: '1', MessageGroupId: job.channel },
            },
          ],
          stack.queue.queueArn,
        );
        const response = await handlers[i]!(event, lambdaContext('worker', 120_000));
        return { failed: (response?.batchItemFailures.length ?? 0) > 0, at: seconds(performance.now()) };
      }),
    );
    const want = options.path === 'native' ? answer : toMrkdwn(answer);
    const complete = jobs.filter((j) => {
      const replies = stack.slack
        .thread(j.channel, j.threadTs)
        .filter((m) => m.user === stack.slack.botUserId);
      return replies.length === 1 && replies[0]!.text === want;
    }).length;
    const calls: ScaleCall[] = stack.slack.calls
      .filter((c) => typeof (c.args.channel ?? c.args.channel_id) === 'string')
      .map((c) => {
        const channel = String(c.args.channel ?? c.args.channel_id);
        const text = c.args.markdown_text ?? c.args.text;
        return {
          method: c.method,
          team: teamOfChannel(channel),
          channel,
          t: seconds(c.at),
          status: c.status,
          ...(typeof text === 'string' ? { chars: text.length } : {}),
        };
      });
    // The timeline: the slowest answer's model stream against what Slack was sent for it.
    const slowest = jobs[results.reduce((best, r, i) => (r.at > results[best]!.at ? i : best), 0)]!;
    const request = stack.openai!.requests.find((r) =>
      JSON.stringify(r.body.messages.at(-1)?.content).includes(slowest.channel),
    )!;
    let shown = 0;
    const writes = calls
      .filter((c) => c.channel === slowest.channel && c.status === 200 && c.chars !== undefined)
      .filter((c) =>
        ['chat.update', 'chat.startStream', 'chat.appendStream', 'chat.stopStream'].includes(c.method),
      )
      .map((c) => {
        // Appends add to what the stream shows; an edit replaces it (its typing marker not counted).
        shown = c.method === 'chat.update' ? c.chars! : shown + c.chars!;
        return { t: c.t, chars: Math.min(shown, want.length) };
      });
    return {
      label: options.label,
      path: options.path,
      workspaces: options.workspaces,
      answersPerWorkspace: options.answersPerWorkspace,
      budget: options.budget,
      rateLimited: stack.slack.calls.filter((c) => c.status === 429).length,
      complete,
      failed: results.filter((r) => r.failed).length,
      completionSeconds: results.map((r) => r.at),
      streamSeconds: (request.finishedAt! - request.firstTokenAt!) / 1000,
      calls,
      timeline: {
        channel: slowest.channel,
        firstTokenS: seconds(request.firstTokenAt!),
        lastTokenS: seconds(request.finishedAt!),
        writes,
      },
    };
  } finally {
    for (const deps of lambdas) deps.close();
    await stack.close();
  }
}
