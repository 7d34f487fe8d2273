import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import type { EventFile } from './event-files';

/**
 * What `npm start` expects of each payload in `events/`, kept next to them in
 * `events/expectations.json` (file name → expectation), so a new event file states its outcome.
 */
const expectation = z.strictObject({
  /**
   * `reply`: exactly one complete answer in its thread; `none`: no answer; `challenge`: echoed;
   * `prompts`: suggested prompts set where the user opened the assistant thread, nothing posted.
   */
  expect: z.enum(['reply', 'none', 'challenge', 'prompts']),
  /** Send only after this file's answer is complete (a follow-up in the same thread). */
  after: z.string().optional(),
  /** Texts the reply must contain when the local OpenAI peer answers (its answers are predictable). */
  localReplyContains: z.array(z.string()).optional(),
  /** Why: shown nowhere, for whoever edits the file. */
  note: z.string().optional(),
  /** Put into the local Slack peer before the event is sent (see sandbox/seed-scenario.ts). */
  seed: z
    .strictObject({
      users: z
        .array(
          z.strictObject({
            id: z.string(),
            name: z.string(),
            realName: z.string().optional(),
            displayName: z.string().optional(),
          }),
        )
        .optional(),
      /** Earlier messages; their `ts`/`thread_ts` are restamped like the event's. */
      messages: z
        .array(
          z.strictObject({
            ts: z.string(),
            thread_ts: z.string().optional(),
            user: z.string(),
            text: z.string(),
          }),
        )
        .optional(),
    })
    .optional(),
});

/** What is expected of one payload. */
export type Expectation = z.infer<typeof expectation>;

const schema = z.record(z.string(), z.union([expectation, z.string()]));

/**
 * Reads `expectations.json` and checks it covers exactly `files`.
 * @throws {Error} naming the file without an expectation, or the malformed entry.
 */
export async function readExpectations(path: string, files: EventFile[]): Promise<Map<string, Expectation>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new Error(`${path}: cannot read it (${(cause as Error).message})`, { cause });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.')} ${issue.message}`);
  }
  const result = new Map<string, Expectation>();
  for (const [name, value] of Object.entries(parsed.data)) {
    if (typeof value !== 'string') result.set(name, value); // strings are comments ("$comment")
  }
  const names = new Set(files.map((f) => f.name));
  const missing = files.find((f) => !result.has(f.name));
  if (missing) throw new Error(`${path} has no entry for ${missing.name}: say what it should do`);
  for (const [name, value] of result) {
    if (!names.has(name)) throw new Error(`${path} names ${name}, which is not in the events directory`);
    if (value.after !== undefined && !names.has(value.after))
      throw new Error(`${path}: ${name} comes after ${value.after}, which is not in the events directory`);
  }
  return result;
}
