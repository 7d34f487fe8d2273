import { fork } from 'node:child_process';
import path from 'node:path';
import { LAMBDA_NODE_OPTIONS } from './cold-init';
import type { LatencyRunResult } from './ingress-latency-child';

/** Pass instead of a bundle to time the bare SQS send (same client settings): the floor under both. */
export const SQS_ONLY = 'sqs-only';

/**
 * Runs one warm-latency measurement of a bundled ingress in a fresh process
 * (bench/ingress-latency-child.ts) and returns its samples. stdout (the function's logs, as
 * Lambda would ship them) is discarded.
 */
export function warmLatencyRun(file: string, count: number, warmup: number): Promise<LatencyRunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      path.join(__dirname, 'ingress-latency-child.ts'),
      [file, String(count), String(warmup)],
      {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
          NODE_NO_WARNINGS: '1',
        },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    let stderr = '';
    let result: LatencyRunResult | undefined;
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('message', (message) => {
      result = message as LatencyRunResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result && code === 0) resolve(result);
      else reject(new Error(`warm latency run of ${file} failed (exit ${code}): ${stderr.slice(-1500)}`));
    });
  });
}
