import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Expectation } from './expectations';
import type { SlackPeer } from './peers/slack-peer';
import type { EventRestamper } from './restamp-event';

/**
 * Puts what an event's expectation says was already there into the local Slack peer: people with
 * names (`users.info`) and the earlier messages of its thread (in the event's `channel`). Call it
 * before stamping the event, so the restamped messages come before the question in the thread.
 */
export function seedBeforeEvent(
  slack: SlackPeer,
  restamper: EventRestamper,
  seed: Expectation['seed'],
  channel: string,
): void {
  for (const user of seed?.users ?? []) slack.seedUser(user);
  if (!seed?.messages?.length) return;
  const stamped = restamper.stamp({ type: 'event_callback', event: { messages: seed.messages } });
  for (const message of stamped.event.messages) {
    try {
      slack.seedMessage({ channel, ...message });
    } catch {
      // Already there (a file replayed twice in one run): the thread is as the seed says.
    }
  }
}

type EventFileObject = Record<string, unknown> & { name?: unknown };

/**
 * Serves the files an event lists from `<filesDir>/<name>` on the local Slack peer, and points the
 * event at them (`id`, `size`, `url_private`), as Slack's files would be. A file not found there
 * is left as it is (the worker then names it as not read).
 */
export async function serveEventFiles(
  slack: SlackPeer,
  body: Record<string, unknown>,
  filesDir: string,
): Promise<void> {
  const event = body.event as { files?: EventFileObject[] } | undefined;
  if (!Array.isArray(event?.files)) return;
  event.files = await Promise.all(
    event.files.map(async (file) => {
      if (typeof file.name !== 'string') return file;
      let bytes: Buffer;
      try {
        bytes = await readFile(join(filesDir, file.name));
      } catch {
        return file;
      }
      const mimetype = typeof file.mimetype === 'string' ? file.mimetype : 'application/octet-stream';
      return { ...file, ...slack.seedFile({ name: file.name, mimetype, bytes }) };
    }),
  );
}

/**
 * Slack puts an `action_token` on the asking user's event: the local Slack peer accepts the
 * event's own token for that user, so `search_slack` can search as them.
 */
export function acceptActionToken(slack: SlackPeer, body: Record<string, unknown>): void {
  const event = body.event as { action_token?: unknown; user?: unknown } | undefined;
  if (typeof event?.action_token === 'string' && typeof event.user === 'string') {
    slack.issueActionToken(event.user, event.action_token);
  }
}

/** `{{pages}}` in an event becomes the local page peer's origin (its port is a free one). */
export function withLocalOrigins(
  body: Record<string, unknown>,
  pagesOrigin: string,
): Record<string, unknown> {
  return JSON.parse(JSON.stringify(body).replaceAll('{{pages}}', pagesOrigin)) as Record<string, unknown>;
}
