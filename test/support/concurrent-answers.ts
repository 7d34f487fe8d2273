import { measureConcurrentAnswers } from '../../bench/scale';

/**
 * Run by test/integration/listeners.test.ts in a child process (`tsx`): answers `ANSWERS` questions
 * at once as `npm run bench` does (each in its own worker, against the local peers), and prints the
 * process warnings it saw as one `warnings [...]` line. In its own process because Node emits
 * `MaxListenersExceededWarning` on the real `process`, which a Jest test does not see.
 */
async function main(): Promise<void> {
  const warnings: string[] = [];
  process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));
  const answers = Number(process.env.ANSWERS ?? 12);
  const run = await measureConcurrentAnswers({
    label: 'listeners',
    path: process.env.ANSWER_PATH === 'native' ? 'native' : 'edit',
    // One answer per workspace: each has its own Slack budget, so none waits for another.
    workspaces: answers,
    answersPerWorkspace: 1,
    budget: true,
    tokens: 20,
    tokenDelayMs: 20,
  });
  await new Promise((resolve) => setImmediate(resolve));
  console.log(`answered ${run.complete}`);
  console.log(`warnings ${JSON.stringify(warnings)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
