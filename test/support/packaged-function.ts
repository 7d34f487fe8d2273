import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { readZip } from './unzip';

const run = promisify(execFile);

/**
 * Runs a packaged Lambda zip the way the Node.js runtime does, outside Jest: a fresh `node`
 * process, only the function's environment, the unzipped code as the working directory, and the
 * handler named by the template's `Handler` (`handlers/ingress.handler`).
 *
 * Layout: `<root>/task/` holds the zip's files; `<root>/node_modules/@aws-sdk` links to the
 * project's copy, standing in for the SDK that the Lambda runtime provides. Nothing else is
 * resolvable from `task/`, so a dependency that escaped the bundle fails to load here as it would
 * in AWS (which a directory inside the project, with `node_modules` above it, would hide).
 */
export class PackagedFunction {
  readonly taskRoot: string;
  /** The zip's files, by path inside the zip. */
  readonly files: Map<string, Buffer>;

  constructor(
    zipPath: string,
    readonly root: string,
    readonly handler: string,
  ) {
    this.files = readZip(readFileSync(zipPath));
    this.taskRoot = path.join(root, 'task');
    for (const [name, content] of this.files) {
      const target = path.join(this.taskRoot, name);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    const sdk = path.join(root, 'node_modules', '@aws-sdk');
    mkdirSync(path.dirname(sdk), { recursive: true });
    symlinkSync(path.resolve(__dirname, '../../node_modules/@aws-sdk'), sdk, 'junction');
  }

  /** `handlers/ingress.handler` → `handlers/ingress.js`. */
  get handlerFile(): string {
    return `${this.handler.slice(0, this.handler.lastIndexOf('.'))}.js`;
  }

  /**
   * Cold-starts the function in a child process and invokes it once per event, in order.
   * @returns what the module exported under the handler name and what each invocation returned.
   */
  async invoke(env: Record<string, string>, events: unknown[] = []): Promise<Invocation> {
    const eventsFile = path.join(this.root, `events-${process.pid}-${Date.now()}.json`);
    const resultFile = `${eventsFile}.result`;
    writeFileSync(eventsFile, JSON.stringify(events));
    let output: { stdout: string; stderr: string };
    try {
      output = await run(process.execPath, ['-e', RUNTIME, this.handler, eventsFile, resultFile], {
        cwd: this.taskRoot,
        env: { PATH: process.env.PATH ?? '', LAMBDA_TASK_ROOT: this.taskRoot, ...env },
        timeout: 20_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      // A minified bundle puts a whole module on one line: keep the message readable.
      const { stderr = '' } = error as { stderr?: string };
      throw new Error(`the packaged ${this.handler} failed: ${stderr.slice(-2000)}`, { cause: error });
    } finally {
      rmSync(eventsFile, { force: true });
    }
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as Omit<Invocation, 'logs'>;
    rmSync(resultFile, { force: true });
    const lines = `${output.stdout}\n${output.stderr}`.split('\n');
    return { ...result, logs: lines.filter((line) => line.startsWith('{')) };
  }
}

/** What a child process reports back. */
export interface Invocation {
  /** `typeof` the handler export. */
  handlerType: string;
  /** Time to `require` the bundle (module initialisation). */
  initMs: number;
  /** One return value per event. */
  results: unknown[];
  /** The function's JSON log lines, from stdout and stderr (Lambda ships both; errors go to stderr). */
  logs: string[];
}

/**
 * The child's program (CommonJS, run with `node -e`): require the handler module relative to the
 * task root, call the handler with each event and a Lambda-shaped context, write the results.
 * Writes to a file, not stdout: the function's own logs go to stdout, as in Lambda.
 */
const RUNTIME = `
const fs = require('node:fs');
const path = require('node:path');
const [handlerName, eventsFile, resultFile] = process.argv.slice(1);
const dot = handlerName.lastIndexOf('.');
const started = process.hrtime.bigint();
const mod = require(path.resolve(handlerName.slice(0, dot) + '.js'));
const initMs = Number(process.hrtime.bigint() - started) / 1e6;
const handler = mod[handlerName.slice(dot + 1)];
const context = (n) => {
  const deadline = Date.now() + 30000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'packaged',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:packaged',
    memoryLimitInMB: '256',
    awsRequestId: 'packaged-' + n,
    logGroupName: '/aws/lambda/packaged',
    logStreamName: 'packaged',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
};
(async () => {
  const results = [];
  const events = JSON.parse(fs.readFileSync(eventsFile, 'utf8'));
  for (const [n, event] of events.entries()) results.push(await handler(event, context(n)));
  fs.writeFileSync(resultFile, JSON.stringify({ handlerType: typeof handler, initMs, results }));
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;
