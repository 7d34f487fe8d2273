import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '../lib/errors';

/**
 * What the sandbox's commands (`npm start`, `npm run replay`, `npm run dev`) share: `.env`
 * loading, argument parsing with clear errors, and exit codes: 0 all went as expected,
 * 1 something did not (the output says what), 2 the command could not run (usage, configuration).
 */

/** The command cannot run as asked; the message says what to change. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/**
 * Loads `.env` from the working directory into `process.env`, as `serverless.yml` does for
 * deploys; variables already set win. Needs Node 20.12+ (`process.loadEnvFile`).
 * @returns the file loaded, if any.
 */
export function loadDotEnv(path = '.env'): string | undefined {
  const file = resolve(path);
  if (!existsSync(file)) return undefined;
  if (typeof process.loadEnvFile !== 'function') {
    console.error(`warning: ${path} not loaded: Node ${process.version} has no process.loadEnvFile (20.12+)`);
    return undefined;
  }
  process.loadEnvFile(file);
  return file;
}

/** Options every sandbox command takes. */
const COMMON_OPTIONS = {
  'no-env-file': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Parses a command's arguments the way every sandbox command does: `parseArgs` (strict) with a
 * usage error naming the bad option instead of a stack trace, `--help`/`-h` printing `usage`, and
 * `.env` loaded unless `--no-env-file`.
 * @returns the parsed arguments and the `.env` file loaded, or undefined after printing help.
 */
export function parseCli<O extends NonNullable<ParseArgsConfig['options']>>(
  config: { options: O; allowPositionals?: boolean },
  usage: string,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ options: O & typeof COMMON_OPTIONS; allowPositionals?: boolean; strict: true }>
  >;
  try {
    parsed = parseArgs({ ...config, options: { ...config.options, ...COMMON_OPTIONS }, strict: true });
  } catch (cause) {
    throw new UsageError(`${(cause as Error).message}\n\n${usage}`, { cause });
  }
  // Inside the generic, TypeScript cannot see the common options in `values`; they are there.
  const common = parsed.values as { help?: boolean; 'no-env-file'?: boolean };
  if (common.help) {
    console.log(usage);
    return undefined;
  }
  const envFile = common['no-env-file'] ? undefined : loadDotEnv();
  return { values: parsed.values, positionals: parsed.positionals, envFile };
}

/** A whole number ≥ `min` from an option, or a usage error naming the option. */
export function wholeNumber(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, not "${value}"`);
  return n;
}

/**
 * Runs a command's `main`, and exits with its code; a usage or configuration error prints its
 * message (no stack) and exits 2, anything else prints the error and exits 1. `process.exit` also
 * ends whatever an SDK left open: nothing keeps running after the command.
 */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError || error instanceof ConfigError) {
        console.error(`error: ${error.message}`);
        process.exit(2);
      }
      console.error(error);
      process.exit(1);
    },
  );
}

/**
 * Resolves on the first SIGINT or SIGTERM (Ctrl-C), with the signal's name. A terminal's Ctrl-C
 * reaches this process twice (directly, and relayed by the tsx or npm process above it): repeats
 * within a second are ignored; a later one exits at once (130), for when closing hangs.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: number | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (first === undefined) {
        first = Date.now();
        resolve(signal);
      } else if (Date.now() - first > 1_000) {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
