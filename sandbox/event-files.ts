import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** A saved Slack Events API payload. */
export interface EventFile {
  /** As given or found, e.g. `events/direct-message.json`. */
  path: string;
  /** The file name, e.g. `direct-message.json`. */
  name: string;
  body: Record<string, unknown>;
}

/** A path that cannot be replayed; the message says which and why. */
export class EventFileError extends Error {
  readonly path: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`${path}: ${problem}`, options);
    this.name = 'EventFileError';
    this.path = path;
  }
}

type Parsed = { body: Record<string, unknown> } | { notSlack: string };

async function parse(path: string): Promise<Parsed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new EventFileError(path, `cannot read it (${(cause as NodeJS.ErrnoException).code ?? cause})`, {
      cause,
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new EventFileError(path, `is not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { notSlack: 'is not a JSON object' };
  const object = body as Record<string, unknown>;
  if (Array.isArray(object.Records))
    return { notSlack: 'is an SQS event for the worker: npx serverless invoke local -f worker -p <file>' };
  if (typeof object.type !== 'string') return { notSlack: 'has no "type": not a Slack Events API payload' };
  return { body: object };
}

/**
 * Reads Slack payloads from files and directories. A directory contributes its `*.json` files
 * (not subdirectories) in name order, skipping JSON that is not a Slack payload (`expectations.json`,
 * SQS events); a file named explicitly must be one.
 * @throws {EventFileError} naming the path that is missing, unreadable or not a payload.
 */
export async function readEventFiles(paths: string[]): Promise<{ files: EventFile[]; skipped: string[] }> {
  const files: EventFile[] = [];
  const skipped: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (cause) {
      throw new EventFileError(path, `cannot read it (${(cause as NodeJS.ErrnoException).code ?? cause})`, {
        cause,
      });
    }
    if (!isDirectory) {
      const parsed = await parse(path);
      if ('notSlack' in parsed) throw new EventFileError(path, parsed.notSlack);
      files.push({ path, name: basename(path), body: parsed.body });
      continue;
    }
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
      .map((entry) => entry.name)
      .sort();
    for (const name of names) {
      const parsed = await parse(join(path, name));
      if ('notSlack' in parsed) skipped.push(join(path, name));
      else files.push({ path: join(path, name), name, body: parsed.body });
    }
  }
  if (files.length === 0) throw new EventFileError(paths.join(', '), 'holds no Slack payload (*.json)');
  return { files, skipped };
}

/** Where a Slack event would be answered: its channel and thread, when it has them. */
export function threadOf(body: Record<string, unknown>): { channel: string; threadTs: string } | undefined {
  const event = body.event as { channel?: unknown; ts?: unknown; thread_ts?: unknown } | undefined;
  if (typeof event?.channel !== 'string') return undefined;
  const threadTs = typeof event.thread_ts === 'string' ? event.thread_ts : event.ts;
  return typeof threadTs === 'string' ? { channel: event.channel, threadTs } : undefined;
}

/**
 * Where an event asks for suggested prompts: the assistant thread of `assistant_thread_started`,
 * or the DM of `app_home_opened` on the Messages tab (agent view: no thread).
 */
export function promptsTargetOf(
  body: Record<string, unknown>,
): { channel: string; threadTs?: string } | undefined {
  const event = body.event as
    | { type?: unknown; channel?: unknown; assistant_thread?: { channel_id?: unknown; thread_ts?: unknown } }
    | undefined;
  if (event?.type === 'assistant_thread_started') {
    const { channel_id: channel, thread_ts: threadTs } = event.assistant_thread ?? {};
    if (typeof channel === 'string' && typeof threadTs === 'string') return { channel, threadTs };
  }
  if (event?.type === 'app_home_opened' && typeof event.channel === 'string')
    return { channel: event.channel };
  return undefined;
}
