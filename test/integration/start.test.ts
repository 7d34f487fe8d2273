import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runToExit, shellEnv } from '../support/run-command';

/**
 * `npm start` as a new user runs it: a fresh process, nothing configured (no OpenAI, Momento, Slack
 * or AWS variables), offline. It must end with exit code 0 and a summary in which every mention
 * and DM of `events/` got exactly one complete reply, within the minute the README promises.
 */

const ROOT = resolve(__dirname, '../..');

interface Summary {
  ok: boolean;
  events: number;
  replies: number;
  wallMs: number;
  failures: string[];
  perEvent: Array<{ file: string; status: number | null; replies: number; problems: string[] }>;
}

/** The payloads of `events/` a person wrote to the bot: mentions and DMs (not bots, not edits). */
function questionsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && name !== 'expectations.json')
    .filter((name) => {
      const body = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      const event = body.event ?? {};
      const fromPerson =
        (event.subtype === undefined || event.subtype === 'file_share') && event.bot_id === undefined;
      return (
        body.type === 'event_callback' &&
        fromPerson &&
        (event.type === 'app_mention' || (event.type === 'message' && event.channel_type === 'im'))
      );
    });
}

describe('npm start', () => {
  it('replays every event offline and answers each mention and DM exactly once, completely', async () => {
    // Prepare: only what a shell has; npm's update check off (it would go online).
    const env = shellEnv({ npm_config_update_notifier: 'false' });
    const started = Date.now();
    // Act
    const result = await runToExit<Summary>('npm', ['start', '--', '--no-env-file'], { cwd: ROOT, env });
    const { code, stdout, stderr } = result;
    const wallMs = Date.now() - started;
    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.summary).toBeDefined();
    const summary = result.summary!;
    expect(summary.failures).toEqual([]);
    expect(summary.ok).toBe(true);
    const questions = questionsIn(join(ROOT, 'events'));
    expect(questions.length).toBeGreaterThanOrEqual(5);
    for (const file of questions) {
      expect(summary.perEvent.find((e) => e.file === file)).toMatchObject({
        status: 200,
        replies: 1,
        problems: [],
      });
    }
    expect(summary.replies).toBe(questions.length);
    expect(wallMs).toBeLessThan(60_000);
    // Nothing stays running: the local Function URL it printed no longer answers.
    const ingress = /ingress\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
    expect(ingress).toBeDefined();
    await expect(fetch(ingress!)).rejects.toThrow();
  }, 60_000);
});
