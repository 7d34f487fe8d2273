import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { listen, readBody, sendJson } from './listen';
import {
  APP_LEVEL_METHODS,
  callMethod,
  type SlackArgs,
  type SlackMessage,
  type SlackResponse,
  type SlackUser,
  type SlackWorkspace,
  type SuggestedPrompts,
} from './slack-peer-methods';
import { type PeerOAuth, type PeerOAuthOptions, peerOAuth, type TokenIdentity } from './slack-peer-oauth';
import { type SocketModePeer, startSocketModePeer } from './socket-mode-peer';

export type {
  SlackArgs,
  SlackMessage,
  SlackResponse,
  SlackUser,
  SuggestedPrompts,
} from './slack-peer-methods';

/** Options of {@link startSlackPeer}. */
export interface SlackPeerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The only bot token accepted. Default `xoxb-local-token`. */
  token?: string;
  /** The only app-level token accepted (`apps.connections.open`). Default `xapp-local-token`. */
  appToken?: string;
  /** Default `UBOT0LOCAL`. */
  botUserId?: string;
  /** Default `B0LOCAL`. */
  botId?: string;
  /** Default `T0LOCAL`. */
  teamId?: string;
  /** Clock in epoch milliseconds for message `ts` and stream staleness. Default `Date.now`. */
  now?: () => number;
  /**
   * Enforce Slack's limits (https://docs.slack.dev/apis/web-api/rate-limits), off by default: a call
   * of a listed method answers HTTP 429 with `Retry-After` when `perMinute` calls of it were already
   * answered in the last 60 s, counted per workspace ("per method per workspace per app"), or per
   * workspace and channel with `per: 'channel'` (`chat.postMessage`: about one a second per channel).
   * Refused calls do not count. E.g. `{ 'chat.update': { perMinute: 50 } }`.
   */
  rateLimits?: Record<string, { perMinute: number; per?: 'team' | 'channel' }>;
  /** The span {@link rateLimits} count over: 60 s; tests may compress it. */
  rateLimitMinuteMs?: number;
  /**
   * The workspace a call acts on, from its `channel` (or `channel_id`); for {@link rateLimits}. One bot
   * token serves several workspaces this way, as an org-wide token does on Enterprise Grid. Default:
   * every channel is in `teamId`.
   */
  teamOfChannel?: (channel: string) => string;
  /**
   * Distribution mode: the app's OAuth side (slack-peer-oauth.ts) and the workspaces and
   * organizations it can be installed in, each with its own bot user. Tokens it issues act as their
   * installation; the default `token` keeps working as before.
   */
  oauth?: PeerOAuthOptions;
}

/**
 * An injected failure: HTTP 429 with `Retry-After`, a Slack error code, a bare HTTP status, or a
 * call that does its work but answers only after `lateMs` (a response lost to the client's timeout).
 */
export type SlackFailure =
  | { rateLimited: { retryAfter: number } }
  | { error: string }
  | { status: number }
  | { lateMs: number };

/** A file to put in the workspace, served at its `url_private` (see {@link SlackPeer.seedFile}). */
export interface SeedFile {
  name: string;
  mimetype: string;
  bytes: Buffer | string;
  /** Answer downloads with `302 Location: <redirectTo>` instead of the bytes. */
  redirectTo?: string;
}

/** One request for a file's `url_private`. */
export interface FileDownload {
  path: string;
  /** Whether it carried the bot token as `Authorization: Bearer`. */
  authorized: boolean;
  status: number;
}

/** A feature that {@link SlackPeer.disable} can switch off. */
export type SlackFeature = 'streaming';

/** One recorded Web API call. */
export interface SlackCall {
  method: string;
  /** For a token issued through OAuth: the token and the installation it acted as. */
  as?: { token: string; installation: string; teamId?: string | undefined };
  /** Parsed arguments, without `token`. */
  args: SlackArgs;
  /** `performance.now()` when the request was read. */
  at: number;
  /** HTTP status sent (200 unless a failure was injected). */
  status: number;
  response: SlackResponse;
}

/** Events of {@link SlackPeer.on}: every answered call, and every seeded message. */
export interface SlackPeerEvents {
  call: [call: SlackCall];
  seed: [message: SlackMessage];
}

/** A local Slack Web API, see {@link startSlackPeer}. */
export interface SlackPeer {
  /** `http://127.0.0.1:PORT/api/`: pass as `slackApiUrl`. */
  readonly url: string;
  readonly token: string;
  /** The app-level token (`xapp-…`) for Socket Mode. */
  readonly appToken: string;
  /** The Socket Mode endpoint `apps.connections.open` points at; push events with it. */
  readonly socketMode: SocketModePeer;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  /** The OAuth side, when started with `oauth`: revoke tokens, set the Redirect URL, count refreshes. */
  readonly oauth: PeerOAuth | undefined;
  /** Every call so far, oldest first. */
  readonly calls: readonly SlackCall[];
  callsTo(method: string): SlackCall[];
  /** Copies of the live messages of a thread (the parent if known, then replies), in ts order. */
  thread(channel: string, threadTs: string): SlackMessage[];
  /** The thread's `assistant.threads.setStatus` status, `''` once cleared. */
  status(channel: string, threadTs: string): string | undefined;
  /**
   * The last `assistant.threads.setSuggestedPrompts` of a thread, or of the DM itself when
   * `threadTs` is omitted (agent view: no `thread_ts`).
   */
  suggestedPrompts(channel: string, threadTs?: string): SuggestedPrompts | undefined;
  /** The thread's last `assistant.threads.setTitle`. */
  title(channel: string, threadTs: string): string | undefined;
  /** Puts a user's message into a channel or thread, as if they had posted it. */
  seedMessage(input: {
    channel: string;
    ts?: string;
    thread_ts?: string;
    user: string;
    text: string;
    /** File objects from {@link SlackPeer.seedFile}. */
    files?: Array<Record<string, unknown>>;
    /** Another app's message: its bot id (its `user` is that app's bot user). */
    botId?: string;
  }): SlackMessage;
  /** Adds a workspace member for `users.info`. */
  seedUser(user: SlackUser): void;
  /**
   * The `action_token` Slack would put on `user`'s next event: `assistant.search.context` accepts
   * it and searches as that user. Tokens are forgotten on `reset()`.
   */
  issueActionToken(user: string, token?: string): string;
  /** Makes a private channel, DM (`D…`) or group DM (`groupDm`) with these members, for search. */
  seedMembers(channel: string, users: string[], options?: { groupDm?: boolean }): void;
  /**
   * Stores a file and returns its file object as Slack lists it on a message or event (`id`,
   * `name`, `mimetype`, `size`, `url_private` on this peer's origin, bearer-token checked).
   */
  seedFile(file: SeedFile): Record<string, unknown> & { id: string; url_private: string };
  /** Every request for a file so far. */
  readonly downloads: readonly FileDownload[];
  /** The next `times` calls of `method` fail this way, before any state changes. */
  failNext(method: string, failure: SlackFailure, times?: number): void;
  /** Drops the failures still pending for `method` (for every method when omitted): Slack recovers. */
  recover(method?: string): void;
  /** The user presses Stop on a streaming message: its next append answers `stopped_by_user`. */
  pressStop(channel: string, ts: string): void;
  /** `disable('streaming')`: the `chat.*Stream` methods answer `feature_not_enabled`. */
  disable(feature: SlackFeature): void;
  enable(feature: SlackFeature): void;
  on<E extends keyof SlackPeerEvents>(event: E, listener: (...args: SlackPeerEvents[E]) => void): SlackPeer;
  off<E extends keyof SlackPeerEvents>(event: E, listener: (...args: SlackPeerEvents[E]) => void): SlackPeer;
  /** Forgets messages, users, files, downloads, calls, statuses and pending failures; re-enables every feature. */
  reset(): void;
  /** Stops the server and destroys open sockets. */
  close(): Promise<void>;
}

/** A stream with no write for this long is stale (Slack finalises idle streams after ~5 minutes). */
export const STREAM_IDLE_LIMIT_MS = 5 * 60_000;

/** A ts as microseconds, for ordering (`Number("1700000000.000100")` would lose the last digit). */
const micros = (ts: string): bigint => {
  const [seconds = '0', fraction = ''] = ts.split('.');
  return BigInt(seconds) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0');
};

/** The peer's state: messages per channel, thread statuses, switched-off features. */
class Workspace implements SlackWorkspace {
  readonly features = { streaming: true };
  private readonly channels = new Map<string, SlackMessage[]>();
  private readonly statuses = new Map<string, string>();
  private readonly prompts = new Map<string, SuggestedPrompts>();
  private readonly titles = new Map<string, string>();
  private readonly touched = new Map<SlackMessage, number>();
  readonly users = new Map<string, SlackUser>();
  /** `action_token` → the user it was issued to; private channel → its members. */
  readonly actionTokens = new Map<string, string>();
  readonly members = new Map<string, { users: Set<string>; groupDm: boolean }>();
  private lastMicros = 0n;

  /** Who the current call acts as: the default bot, or an OAuth installation's (see `actAs`). */
  private acting: { botUserId: string; botId: string; teamId: string };

  constructor(
    botUserId: string,
    botId: string,
    teamId: string,
    private readonly now: () => number,
    readonly socketModeUrl: () => string,
  ) {
    this.acting = { botUserId, botId, teamId };
    this.defaults = this.acting;
  }

  private readonly defaults: { botUserId: string; botId: string; teamId: string };

  get botUserId(): string {
    return this.acting.botUserId;
  }

  get botId(): string {
    return this.acting.botId;
  }

  get teamId(): string {
    return this.acting.teamId;
  }

  /** Runs one call (synchronous, as every method is) as another installation's bot. */
  actAs<T>(who: { botUserId: string; botId: string; teamId: string } | undefined, run: () => T): T {
    if (!who) return run();
    this.acting = who;
    try {
      return run();
    } finally {
      this.acting = this.defaults;
    }
  }

  /** A `"1700000000.000100"`-style ts from the clock, strictly after every ts handed out or seeded. */
  nextTs(): string {
    const fromClock = BigInt(Math.floor(this.now())) * 1000n;
    this.lastMicros = fromClock > this.lastMicros + 100n ? fromClock : this.lastMicros + 100n;
    return `${this.lastMicros / 1_000_000n}.${String(this.lastMicros % 1_000_000n).padStart(6, '0')}`;
  }

  insert(message: SlackMessage): SlackMessage {
    const list = this.channels.get(message.channel) ?? [];
    if (list.some((m) => m.ts === message.ts))
      throw new Error(`ts ${message.ts} already used in ${message.channel}`);
    if (micros(message.ts) > this.lastMicros) this.lastMicros = micros(message.ts);
    list.push(message);
    list.sort((a, b) => (micros(a.ts) < micros(b.ts) ? -1 : 1));
    this.channels.set(message.channel, list);
    return message;
  }

  user(id: string): SlackUser | undefined {
    return this.users.get(id);
  }

  allMessages(): SlackMessage[] {
    return [...this.channels.values()].flat().filter((m) => !m.deleted);
  }

  actionTokenUser(token: string): string | undefined {
    return this.actionTokens.get(token);
  }

  isMember(channel: string, user: string): boolean {
    return this.members.get(channel)?.users.has(user) ?? false;
  }

  isGroupDm(channel: string): boolean {
    return this.members.get(channel)?.groupDm ?? false;
  }

  find(channel: string, ts: string): SlackMessage | undefined {
    return this.channels.get(channel)?.find((m) => m.ts === ts && !m.deleted);
  }

  post(input: {
    channel: string;
    thread_ts?: string;
    text: string;
    blocks?: unknown[];
    streaming?: boolean;
    metadata?: unknown;
  }) {
    const { channel, thread_ts, text, blocks, streaming, metadata } = input;
    const ts = this.nextTs();
    const message: SlackMessage = {
      channel,
      ts,
      text,
      user: this.botUserId,
      bot_id: this.botId,
      edits: 0,
      deleted: false,
    };
    if (thread_ts !== undefined) message.thread_ts = thread_ts;
    if (blocks !== undefined) message.blocks = blocks;
    if (metadata !== undefined) message.metadata = metadata;
    if (streaming) {
      message.streaming = 'in_progress';
      this.touched.set(message, this.now());
    }
    // https://docs.slack.dev/reference/methods/assistant.threads.setStatus: a reply clears it.
    if (thread_ts !== undefined && this.statuses.has(`${channel}/${thread_ts}`))
      this.setStatus(channel, thread_ts, '');
    return this.insert(message);
  }

  edit(
    message: SlackMessage,
    change: { text?: string; blocks?: unknown[]; metadata?: unknown },
  ): SlackMessage {
    if (change.text !== undefined) message.text = change.text;
    if (change.blocks !== undefined) message.blocks = change.blocks;
    if (change.metadata !== undefined) message.metadata = change.metadata;
    message.edits += 1;
    message.edited = { user: this.botUserId, ts: this.nextTs() };
    return message;
  }

  remove(message: SlackMessage): void {
    message.deleted = true;
  }

  isStreaming(message: SlackMessage): boolean {
    if (message.streaming !== 'in_progress') return false;
    if (this.now() - (this.touched.get(message) ?? 0) <= STREAM_IDLE_LIMIT_MS) return true;
    message.streaming = 'stopped';
    return false;
  }

  append(message: SlackMessage, text: string): void {
    message.text += text;
    this.touched.set(message, this.now());
  }

  stop(message: SlackMessage, blocks?: unknown[], metadata?: unknown): SlackMessage {
    message.streaming = 'stopped';
    if (blocks !== undefined) message.blocks = [...(message.blocks ?? []), ...blocks];
    if (metadata !== undefined) message.metadata = metadata;
    return message;
  }

  /** Forgets every message and status; ts keep increasing. */
  clear(): void {
    this.channels.clear();
    this.statuses.clear();
    this.prompts.clear();
    this.titles.clear();
    this.touched.clear();
    this.users.clear();
    this.actionTokens.clear();
    this.members.clear();
    this.features.streaming = true;
  }

  setStatus(channel: string, threadTs: string, status: string): void {
    this.statuses.set(`${channel}/${threadTs}`, status);
  }

  status(channel: string, threadTs: string): string | undefined {
    return this.statuses.get(`${channel}/${threadTs}`);
  }

  setSuggestedPrompts(channel: string, threadTs: string | undefined, prompts: SuggestedPrompts): void {
    this.prompts.set(`${channel}/${threadTs ?? ''}`, prompts);
  }

  suggestedPrompts(channel: string, threadTs?: string): SuggestedPrompts | undefined {
    return this.prompts.get(`${channel}/${threadTs ?? ''}`);
  }

  setTitle(channel: string, threadTs: string, title: string): void {
    this.titles.set(`${channel}/${threadTs}`, title);
  }

  title(channel: string, threadTs: string): string | undefined {
    return this.titles.get(`${channel}/${threadTs}`);
  }

  thread(channel: string, threadTs: string): SlackMessage[] {
    return (this.channels.get(channel) ?? []).filter(
      (m) => !m.deleted && (m.ts === threadTs || m.thread_ts === threadTs),
    );
  }

  react(message: SlackMessage, name: string): boolean {
    message.reactions ??= [];
    const reaction = message.reactions.find((r) => r.name === name);
    if (reaction?.users.includes(this.botUserId)) return false;
    if (reaction) reaction.users.push(this.botUserId);
    else message.reactions.push({ name, users: [this.botUserId], count: 0 });
    for (const r of message.reactions) r.count = r.users.length;
    return true;
  }

  toApiMessage(m: SlackMessage): Record<string, unknown> {
    const replies = m.thread_ts === undefined ? this.thread(m.channel, m.ts).filter((r) => r !== m) : [];
    return {
      type: 'message',
      user: m.user,
      ...(m.bot_id !== undefined && { bot_id: m.bot_id, app_id: 'A0LOCAL' }),
      text: m.text,
      ts: m.ts,
      team: this.teamId,
      ...(m.thread_ts !== undefined && {
        thread_ts: m.thread_ts,
        parent_user_id: this.find(m.channel, m.thread_ts)?.user,
      }),
      ...(replies.length > 0 && {
        thread_ts: m.ts,
        reply_count: replies.length,
        reply_users: [...new Set(replies.map((r) => r.user))],
        latest_reply: replies.at(-1)?.ts,
      }),
      ...(m.blocks !== undefined && { blocks: m.blocks }),
      ...(m.metadata !== undefined && { metadata: m.metadata }),
      ...(m.edited !== undefined && { edited: m.edited }),
      ...(m.reactions !== undefined && m.reactions.length > 0 && { reactions: m.reactions }),
      ...(m.files !== undefined && { files: m.files, upload: false }),
    };
  }
}

// Form-encoded calls carry nested arguments as JSON strings; a malformed one gets this error.
const JSON_FIELDS: Record<string, string> = {
  blocks: 'invalid_blocks_format',
  attachments: 'invalid_attachments',
  chunks: 'invalid_chunks',
  metadata: 'invalid_metadata_format',
  loading_messages: 'invalid_arguments',
  prompts: 'invalid_arguments',
};

type Parsed = { args: SlackArgs; error?: undefined } | { error: string };

/** Reads arguments from the query string and an `x-www-form-urlencoded` or JSON body. */
function parseArgs(contentType: string, body: string, query: URLSearchParams): Parsed {
  const args: SlackArgs = Object.fromEntries(query);
  if (contentType.startsWith('application/json')) {
    try {
      const json: unknown = JSON.parse(body || '{}');
      if (typeof json !== 'object' || json === null || Array.isArray(json)) return { error: 'invalid_json' };
      return { args: { ...args, ...json } };
    } catch {
      return { error: 'invalid_json' };
    }
  }
  if (body !== '' && !contentType.startsWith('application/x-www-form-urlencoded')) {
    return { error: 'invalid_form_data' };
  }
  for (const [key, value] of new URLSearchParams(body)) args[key] = value;
  for (const [key, error] of Object.entries(JSON_FIELDS)) {
    const value = args[key];
    if (typeof value !== 'string') continue;
    try {
      args[key] = JSON.parse(value);
    } catch {
      return { error };
    }
  }
  return { args };
}

/**
 * Starts a local Slack Web API on 127.0.0.1 that the real `WebClient` talks to over a socket:
 * `POST /api/<method>`, form-encoded or JSON, `Authorization: Bearer <token>`, always HTTP 200
 * with Slack's `{ ok, error? }` envelope unless a failure was injected with `failNext`.
 *
 * @example
 * const slack = await startSlackPeer();
 * const client = new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
 * const { ts } = await client.chat.postMessage({ channel: 'C0GENERAL', text: 'hi' });
 * slack.thread('C0GENERAL', ts!); // [{ text: 'hi', user: 'UBOT0LOCAL', … }]
 * await slack.close();
 */
export async function startSlackPeer(options: SlackPeerOptions = {}): Promise<SlackPeer> {
  const token = options.token ?? 'xoxb-local-token';
  const appToken = options.appToken ?? 'xapp-local-token';
  const socketMode = await startSocketModePeer();
  const ws = new Workspace(
    options.botUserId ?? 'UBOT0LOCAL',
    options.botId ?? 'B0LOCAL',
    options.teamId ?? 'T0LOCAL',
    options.now ?? Date.now,
    () => socketMode.issueUrl(),
  );
  const calls: SlackCall[] = [];
  const oauth = options.oauth ? peerOAuth(options.oauth, options.now ?? Date.now) : undefined;
  /** The team an OAuth token acts in: its workspace, or for an org-wide token the channel's. */
  const actingAs = (who: TokenIdentity, args: SlackArgs) => {
    const raw = args.channel ?? args.channel_id;
    const channel = typeof raw === 'string' ? raw : '';
    const teamId =
      who.teamId ?? (channel && options.teamOfChannel ? options.teamOfChannel(channel) : who.enterpriseId!);
    return { botUserId: who.botUserId, botId: who.botId, teamId };
  };
  const failures = new Map<string, SlackFailure[]>();
  const files = new Map<string, SeedFile>();
  const downloads: FileDownload[] = [];
  let fileCount = 0;
  const events = new EventEmitter<SlackPeerEvents>();
  const clock = options.now ?? Date.now;
  /** Answer times of rate-limited methods, per method, workspace (and channel). */
  const answered = new Map<string, number[]>();

  /** A 429 when `method` is over its limit in the call's workspace; otherwise counts the call. */
  function overLimit(method: string, args: SlackArgs): string | undefined {
    const limit = options.rateLimits?.[method];
    if (!limit) return undefined;
    const raw = args.channel ?? args.channel_id;
    const channel = typeof raw === 'string' ? raw : '';
    const team = channel && options.teamOfChannel ? options.teamOfChannel(channel) : ws.teamId;
    const key = `${method} ${team}${limit.per === 'channel' ? ` ${channel}` : ''}`;
    const now = clock();
    const minute = options.rateLimitMinuteMs ?? 60_000;
    const times = (answered.get(key) ?? []).filter((t) => t > now - minute);
    answered.set(key, times);
    if (times.length >= limit.perMinute)
      return String(Math.max(1, Math.ceil((times[0]! + minute - now) / 1000)));
    times.push(now);
    return undefined;
  }

  type Answer = Omit<SlackCall, 'at'> & { headers?: Record<string, string>; lateMs?: number };

  /** Auth, then an injected failure, then the method itself. */
  function answer(
    method: string,
    parsed: Parsed,
    bearer: string | undefined,
    basicAuth?: { id: string; secret: string },
  ): Answer {
    const { token: bodyToken, ...args } = parsed.error === undefined ? parsed.args : {};
    const reply = (response: SlackResponse, status = 200, headers?: Record<string, string>) =>
      headers ? { method, args, status, response, headers } : { method, args, status, response };
    if (parsed.error !== undefined) return reply({ ok: false, error: parsed.error });
    const given = bearer ?? (typeof bodyToken === 'string' ? bodyToken : undefined);
    // oauth.v2.access authenticates the app (client id and secret), not a token.
    if (method === 'oauth.v2.access' && oauth) return reply(oauth.access(args, basicAuth));
    if (!given) return reply({ ok: false, error: 'not_authed' });
    const installed = oauth?.identify(given);
    if (installed && 'error' in installed) return reply({ ok: false, error: installed.error });
    if (installed && !APP_LEVEL_METHODS.has(method)) {
      const who = actingAs(installed, args);
      const answered = ws.actAs(who, () => afterAuth());
      return { ...answered, as: { token: given, installation: installed.installation, teamId: who.teamId } };
    }
    // An app-level token works only for app-level methods, and a bot token only for the rest.
    const expected = APP_LEVEL_METHODS.has(method) ? appToken : token;
    if (given !== expected) {
      const known = given === token || given === appToken;
      return reply({ ok: false, error: known ? 'not_allowed_token_type' : 'invalid_auth' });
    }
    return afterAuth();

    function afterAuth(): Answer {
      const retryAfter = overLimit(method, args);
      if (retryAfter) return reply({ ok: false, error: 'ratelimited' }, 429, { 'Retry-After': retryAfter });
      const failure = failures.get(method)?.shift();
      if (failure && 'rateLimited' in failure) {
        // https://docs.slack.dev/apis/web-api/rate-limits: HTTP 429 with Retry-After in seconds.
        const retryAfter = String(failure.rateLimited.retryAfter);
        return reply({ ok: false, error: 'ratelimited' }, 429, { 'Retry-After': retryAfter });
      }
      if (failure && 'status' in failure)
        return reply({ ok: false, error: 'internal_error' }, failure.status);
      if (failure && 'lateMs' in failure)
        return { ...reply(callMethod(ws, method, args)), lateMs: failure.lateMs };
      if (failure) return reply({ ok: false, error: failure.error });
      return reply(callMethod(ws, method, args));
    }
  }

  /** `GET /files-pri/<team>-<id>/<name>`: the file's bytes for the bot token, as `url_private`. */
  function serveFile(req: IncomingMessage, res: ServerResponse, path: string): void {
    const id = /^\/files-pri\/[^/-]+-([^/]+)\//.exec(path)?.[1];
    const file = id === undefined ? undefined : files.get(id);
    const bearer = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const installed = bearer === undefined ? undefined : oauth?.identify(bearer);
    const authorized = bearer === token || (installed !== undefined && !('error' in installed));
    const answer = (status: number, headers: Record<string, string | number>, body: Buffer | string) => {
      downloads.push({ path, authorized, status });
      res.writeHead(status, headers);
      res.end(body);
    };
    // Slack answers a request without the token with its sign-in page; a plain 403 here.
    if (!authorized) return void answer(403, { 'Content-Type': 'text/plain' }, 'sign in');
    if (file === undefined) return void answer(404, { 'Content-Type': 'text/plain' }, 'file not found');
    if (file.redirectTo !== undefined) return void answer(302, { Location: file.redirectTo }, '');
    const bytes = Buffer.from(file.bytes);
    answer(200, { 'Content-Type': file.mimetype, 'Content-Length': bytes.length }, bytes);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/files-pri/'))
      return serveFile(req, res, url.pathname);
    // The authorize page, beside the Web API as on slack.com (https://slack.com/oauth/v2/authorize).
    if (req.method === 'GET' && url.pathname === '/oauth/v2/authorize' && oauth) {
      const step = oauth.authorize(url.searchParams);
      res.writeHead(
        step.status,
        step.location ? { Location: step.location } : { 'Content-Type': 'text/plain' },
      );
      return void res.end(step.body ?? '');
    }
    const method = /^\/api\/([\w.-]+)$/.exec(url.pathname)?.[1];
    const body = await readBody(req);
    if (method === undefined) return sendJson(res, 404, { ok: false, error: 'not_found' });
    const parsed = parseArgs(req.headers['content-type'] ?? '', body, url.searchParams);
    const bearer = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    // https://docs.slack.dev/reference/methods/oauth.v2.access: client id and secret preferably as HTTP Basic.
    const basic = /^Basic\s+(\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const credentials = id !== undefined && secret !== undefined ? { id, secret } : undefined;
    const { headers, lateMs, ...call } = { at, ...answer(method, parsed, bearer, credentials) };
    // The work is done; the answer comes late (or never, if the client gave up and closed).
    if (lateMs) await new Promise((r) => setTimeout(r, lateMs));
    if (!res.destroyed) sendJson(res, call.status, call.response, headers);
    calls.push(call);
    events.emit('call', call);
  }

  const server = await listen((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error', detail: String(error) });
    });
  }, options.port);

  const peer: SlackPeer = {
    url: `${server.origin}/api/`,
    token,
    appToken,
    socketMode,
    botUserId: ws.botUserId,
    botId: ws.botId,
    teamId: ws.teamId,
    oauth,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    thread: (channel, threadTs) => structuredClone(ws.thread(channel, threadTs)),
    status: (channel, threadTs) => ws.status(channel, threadTs),
    suggestedPrompts: (channel, threadTs) => structuredClone(ws.suggestedPrompts(channel, threadTs)),
    title: (channel, threadTs) => ws.title(channel, threadTs),
    seedMessage(input) {
      const { channel, user, text } = input;
      const message: SlackMessage = {
        channel,
        ts: input.ts ?? ws.nextTs(),
        user,
        text,
        edits: 0,
        deleted: false,
      };
      if (input.thread_ts !== undefined) message.thread_ts = input.thread_ts;
      if (input.files !== undefined) message.files = structuredClone(input.files);
      if (input.botId !== undefined) message.bot_id = input.botId;
      ws.insert(message);
      events.emit('seed', structuredClone(message));
      return structuredClone(message);
    },
    seedUser(user) {
      ws.users.set(user.id, { ...user });
    },
    issueActionToken(user, token = `${ws.nextTs()}.${user.toLowerCase()}`) {
      ws.actionTokens.set(token, user);
      return token;
    },
    seedMembers(channel, users, options = {}) {
      ws.members.set(channel, { users: new Set(users), groupDm: options.groupDm ?? false });
    },
    seedFile(file) {
      const id = `F0LOCAL${String(++fileCount).padStart(4, '0')}`;
      files.set(id, { ...file });
      const url = `${server.origin}/files-pri/${ws.teamId}-${id}/${encodeURIComponent(file.name)}`;
      const extension = file.name.includes('.') ? file.name.slice(file.name.lastIndexOf('.') + 1) : 'text';
      // https://docs.slack.dev/reference/objects/file-object
      return {
        id,
        created: Math.floor(Date.now() / 1000),
        name: file.name,
        title: file.name,
        mimetype: file.mimetype,
        filetype: extension,
        user: 'U0ASKER',
        size: Buffer.byteLength(file.bytes),
        mode: 'hosted',
        is_external: false,
        url_private: url,
        url_private_download: `${url}?download=1`,
      };
    },
    downloads,
    failNext(method, failure, times = 1) {
      const queue = failures.get(method) ?? [];
      for (let i = 0; i < times; i++) queue.push(failure);
      failures.set(method, queue);
    },
    recover(method) {
      if (method === undefined) failures.clear();
      else failures.delete(method);
    },
    pressStop(channel, ts) {
      const message = ws.find(channel, ts);
      if (message?.streaming === 'in_progress') message.streaming = 'stopped_by_user';
    },
    disable: (feature) => {
      ws.features[feature] = false;
    },
    enable: (feature) => {
      ws.features[feature] = true;
    },
    on(event, listener) {
      events.on(event, listener as never);
      return peer;
    },
    off(event, listener) {
      events.off(event, listener as never);
      return peer;
    },
    reset() {
      ws.clear();
      calls.length = 0;
      failures.clear();
      files.clear();
      downloads.length = 0;
      answered.clear();
    },
    close: async () => {
      await Promise.all([server.close(), socketMode.close()]);
    },
  };
  return peer;
}
