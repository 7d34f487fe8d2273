import { spawn } from 'node:child_process';

/** What a finished command left behind. */
export interface CommandResult<S> {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON of the last `summary {…}` line the sandbox commands print, if any. */
  summary?: S;
}

/**
 * Runs a command to its exit with exactly `env` (a fresh user's shell: pass PATH and HOME
 * yourself), collecting its output and the `summary {json}` line of `npm start` / `npm run replay`.
 */
export function runToExit<S>(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<CommandResult<S>> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((done) =>
    child.on('exit', (code) => {
      const line = stdout
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('summary '));
      const summary = line ? (JSON.parse(line.slice('summary '.length)) as S) : undefined;
      done({ code, stdout, stderr, ...(summary ? { summary } : {}) });
    }),
  );
}

/** Only what a shell has, plus `env`. */
export function shellEnv(env: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
}
