import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './bundles';
import { type BusyRun, measureBusy } from './busy';
import type { Figure } from './report';
import { PICTURES_DIR } from './scale-figures';
import { percentile } from './stats';
import { lineChart, PALETTE } from './svg';

/**
 * What Slack's documented tiers let one channel answer in a minute: 20 streamed answers
 * (chat.startStream and chat.stopStream, Tier 2) and 60 more on the edit path, each needing at least
 * one chat.postMessage (about one a second per channel). An upper bound: edit-path answers that also
 * edit count against chat.update (Tier 3, 50 a minute).
 */
export const TIER_ANSWERS_PER_MINUTE = 20 + 60;
/** Worker invocations at once per workspace, as deployed (`maximumConcurrency` in serverless.yml). */
const CONCURRENCY = 10;
const BURST = { threads: 20, perThread: 3, askOverMs: 3_000 };
/** Short answers (30 tokens, ~0.6 s) and the long ones (300 tokens at 20 ms each, ~6 s). */
const SHORT = { tokens: 30, tokenDelayMs: 20 };
const LONG = { tokens: 300, tokenDelayMs: 20 };

/** The busy-workspace runs of figure 14, one after another (each alone on the machine). */
export async function runBusy(progress: (name: string) => () => void): Promise<Record<string, BusyRun>> {
  const plan: Array<[string, Parameters<typeof measureBusy>[0]]> = [
    [
      'burst',
      {
        label: 'burst, short answers',
        workspaces: 1,
        ...BURST,
        ...SHORT,
        concurrencyPerWorkspace: CONCURRENCY,
        timeoutMs: 240_000,
      },
    ],
    [
      'burstLong',
      {
        label: 'burst, 300-token answers',
        workspaces: 1,
        ...BURST,
        ...LONG,
        concurrencyPerWorkspace: CONCURRENCY,
        timeoutMs: 240_000,
      },
    ],
    [
      'burst10',
      {
        label: 'burst in 10 workspaces',
        workspaces: 10,
        ...BURST,
        ...SHORT,
        concurrencyPerWorkspace: CONCURRENCY,
        timeoutMs: 300_000,
      },
    ],
    [
      'anchor1',
      {
        label: 'burst, Slack without limits',
        workspaces: 1,
        ...BURST,
        ...SHORT,
        concurrencyPerWorkspace: CONCURRENCY,
        timeoutMs: 240_000,
        unlimited: true,
      },
    ],
    [
      'anchor10',
      {
        label: 'burst in 10 workspaces, Slack without limits',
        workspaces: 10,
        ...BURST,
        ...SHORT,
        concurrencyPerWorkspace: CONCURRENCY,
        timeoutMs: 300_000,
        unlimited: true,
      },
    ],
    [
      'sustained',
      {
        label: 'one question a second for 5 minutes',
        workspaces: 1,
        threads: 300,
        perThread: 1,
        askOverMs: 300_000,
        ...LONG,
        concurrencyPerWorkspace: CONCURRENCY,
        timeoutMs: 420_000,
      },
    ],
  ];
  const runs: Record<string, BusyRun> = {};
  for (const [key, options] of plan) {
    const done = progress(`busy workspace: ${options.label}`);
    runs[key] = await measureBusy(options);
    done();
  }
  return runs;
}

/** The most answers completed within any 60 s of a run. */
export function busiestMinute(run: BusyRun): number {
  const times = [...run.completedAtS].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < times.length; i++)
    most = Math.max(most, times.filter((t) => t >= times[i]! && t < times[i]! + 60).length);
  return most;
}

const s = (v: number) => `${v.toFixed(1)} s`;
const paths = (r: BusyRun) =>
  Object.entries(r.paths)
    .map(([p, n]) => `${n} ${p}`)
    .join(', ');

/** Figure 14 from {@link runBusy}. */
export function busyFigures(runs: Record<string, BusyRun>): Figure[] {
  const { burst, burstLong, burst10, anchor1, anchor10, sustained } = runs as Required<typeof runs> &
    Record<string, BusyRun>;
  const figures: Figure[] = [];
  for (const [key, run] of [
    ['short', burst!],
    ['long', burstLong!],
  ] as const) {
    figures.push(
      {
        figure: 14,
        name: `busy_burst_${key}_answered`,
        value: `${run.answeredWholeInOrder}/${run.questions}`,
        unit: 'answers',
        target: `=${run.questions}/${run.questions}`,
        pass: run.answeredWholeInOrder === run.questions && run.replies === run.questions,
        detail: `${run.label}: 20 threads × 3 in one channel asked within 3 s; each answered once, whole, in the order asked (${run.replies} replies; ${paths(run)})`,
      },
      {
        figure: 14,
        name: `busy_burst_${key}_429s`,
        value: run.rateLimited,
        unit: 'responses',
        target: '=0',
        pass: run.rateLimited === 0,
        detail: `Slack peer enforcing the documented tiers over any sliding 60 s: ${JSON.stringify(run.rateLimitedBy)}`,
      },
      {
        figure: 14,
        name: `busy_burst_${key}_last_complete`,
        value: run.lastCompleteS,
        unit: 's',
        target: '<=90',
        pass: run.lastCompleteS <= 90,
        detail: `first question → last answer complete, ${CONCURRENCY} invocations at once (maximumConcurrency); model stream ${s(run.streamSeconds)} an answer; p95 to first feedback ${s(percentile(run.firstFeedbackS, 95))} (queue wait behind the thread's earlier questions included)`,
      },
    );
  }
  // Slack's limits are per workspace: ten workspaces at once must be no slower than one, beyond what
  // the machine itself adds (ten times the streams in one process): each run against its anchor.
  const stretch1 = burst!.lastCompleteS / anchor1!.lastCompleteS;
  const stretch10 = burst10!.lastCompleteS / anchor10!.lastCompleteS;
  figures.push(
    {
      figure: 14,
      name: 'busy_10ws_vs_1ws',
      value: stretch10 / stretch1,
      unit: 'x',
      target: '<=1.2',
      pass:
        stretch10 / stretch1 <= 1.2 &&
        burst10!.rateLimited === 0 &&
        burst10!.answeredWholeInOrder === burst10!.questions,
      detail: `the burst in 10 workspaces (600 questions) took ${s(burst10!.lastCompleteS)}, ${stretch10.toFixed(2)}× its run against a Slack without limits (${s(anchor10!.lastCompleteS)}); in one workspace ${s(burst!.lastCompleteS)}, ${stretch1.toFixed(2)}× (${s(anchor1!.lastCompleteS)}); ${burst10!.answeredWholeInOrder}/600 whole in order, ${burst10!.rateLimited} × 429`,
    },
    {
      figure: 14,
      name: 'busy_answers_per_minute',
      value: busiestMinute(burst!),
      unit: 'answers/min',
      target: `>=${burst!.questions}`,
      pass: busiestMinute(burst!) >= burst!.questions,
      detail: `the burst's busiest minute, one channel; the documented tiers allow at most ${TIER_ANSWERS_PER_MINUTE} (20 streamed + 60 posted); 300-token burst ${busiestMinute(burstLong!)}, steady run ${busiestMinute(sustained!)}`,
    },
  );
  const depthEnd = Math.max(...sustained!.queueDepth.slice(240, 300));
  figures.push(
    {
      figure: 14,
      name: 'busy_sustained_queue_depth',
      value: Math.max(...sustained!.queueDepth),
      unit: 'messages',
      target: '<=20',
      pass:
        Math.max(...sustained!.queueDepth) <= 20 && sustained!.answeredWholeInOrder === sustained!.questions,
      detail: `one question a second for 5 minutes (300-token answers), sampled each second: in the last minute at most ${depthEnd}; ${sustained!.answeredWholeInOrder}/${sustained!.questions} answered whole, ${sustained!.rateLimited} × 429; ${paths(sustained!)}`,
    },
    {
      figure: 14,
      name: 'busy_sustained_p95_first_feedback',
      value: percentile(sustained!.firstFeedbackS, 95),
      unit: 's',
      target: '<=1',
      pass: percentile(sustained!.firstFeedbackS, 95) <= 1,
      detail: `question asked → status (or placeholder) shown; median ${s(percentile(sustained!.firstFeedbackS, 50))}`,
    },
    {
      figure: 14,
      name: 'busy_sustained_p95_complete',
      value: percentile(sustained!.completeS, 95),
      unit: 's',
      target: `<=${(2 * sustained!.streamSeconds + 2).toFixed(0)}`,
      pass: percentile(sustained!.completeS, 95) <= 2 * sustained!.streamSeconds + 2,
      detail: `question asked → answer complete; median ${s(percentile(sustained!.completeS, 50))}; the model streams for ${s(sustained!.streamSeconds)}`,
    },
  );
  return figures;
}

/** The picture: answers completed in the trailing 60 s, against the tiers' maximum. */
export function writeBusyPicture(runs: Record<string, BusyRun>): string {
  const trailing = (run: BusyRun): Array<[number, number]> => {
    const end = Math.max(...run.completedAtS, 1);
    const points: Array<[number, number]> = [];
    for (let t = 0; t <= end + 1; t += 1)
      points.push([t, run.completedAtS.filter((x) => x <= t && x > t - 60).length]);
    return points;
  };
  const svg = lineChart({
    title: 'Answers completed in one channel, counted over the trailing 60 s',
    xLabel: 'seconds from the first question',
    yLabel: 'answers in the last 60 s',
    series: [
      { name: runs.burst!.label, color: PALETTE[0]!, points: trailing(runs.burst!), step: true },
      { name: runs.burstLong!.label, color: PALETTE[1]!, points: trailing(runs.burstLong!), step: true },
      { name: runs.sustained!.label, color: PALETTE[2]!, points: trailing(runs.sustained!), step: true },
    ],
    rules: [
      {
        y: TIER_ANSWERS_PER_MINUTE,
        label: `documented tiers: at most ${TIER_ANSWERS_PER_MINUTE} a minute`,
        color: '#d62728',
      },
    ],
  });
  const file = path.join(PICTURES_DIR, 'answers-per-minute.svg');
  writeFileSync(file, svg);
  return path.relative(PROJECT_ROOT, file);
}
