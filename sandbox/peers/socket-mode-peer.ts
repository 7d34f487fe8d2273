import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A local Slack Socket Mode endpoint: the WebSocket server that `apps.connections.open` points
 * `@slack/socket-mode` at. It speaks Slack's Socket Mode protocol
 * (https://docs.slack.dev/apis/events-api/using-socket-mode): `hello` on connect, then
 * `events_api` envelopes; the client acknowledges each with `{ envelope_id }`, and a
 * `disconnect` message asks it to reconnect. Pings are answered by `ws` itself.
 */

/** An envelope as Slack sends it over the socket. */
export interface SocketModeEnvelope {
  envelope_id: string;
  type: 'events_api' | 'slash_commands' | 'interactive';
  payload: unknown;
  accepts_response_payload: boolean;
  retry_attempt: number;
  retry_reason: string;
}

/** One acknowledgement received from a client. */
export interface SocketModeAck {
  envelope_id: string;
  /** The optional response payload (`ack(response)`). */
  payload?: unknown;
  /** `performance.now()` when it arrived. */
  at: number;
}

/** A running Socket Mode endpoint, see {@link startSocketModePeer}. */
export interface SocketModePeer {
  /**
   * Issues a one-time ticket and returns the URL a client may connect with, as
   * `apps.connections.open` does: `ws://127.0.0.1:PORT/link/?ticket=…&app_id=…`.
   */
  issueUrl(): string;
  /** Open connections that received `hello`. */
  readonly connections: number;
  /** Every envelope sent, oldest first. */
  readonly sent: readonly SocketModeEnvelope[];
  /** Every acknowledgement received, oldest first. */
  readonly acks: readonly SocketModeAck[];
  /** Resolves once at least one client is connected. */
  waitForConnection(timeoutMs?: number): Promise<void>;
  /**
   * Sends an Events API body (an `event_callback`) to the newest connection, as Slack delivers
   * each envelope to one of the app's connections; with `type: 'interactive'`, an interactivity
   * payload (e.g. `block_actions`). Returns the envelope id.
   * @throws {Error} when no client is connected.
   */
  sendEvent(
    body: unknown,
    options?: { retryAttempt?: number; retryReason?: string; type?: SocketModeEnvelope['type'] },
  ): string;
  /** Resolves with the acknowledgement of `envelopeId`. */
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<SocketModeAck>;
  /** Sends `{ type: 'disconnect', reason }` to every connection, as Slack does before recycling a server. */
  requestReconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  /** Closes every connection and the server. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startSocketModePeer}. */
export interface SocketModePeerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The app id put in the URL and `hello`. Default `A0LOCAL`. */
  appId?: string;
}

const waitFor = <T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined,
  subscribe: Set<() => void>,
) =>
  new Promise<T>((resolve, reject) => {
    const done = check();
    if (done !== undefined) return resolve(done);
    const listener = () => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      subscribe.delete(listener);
      resolve(value);
    };
    const timer = setTimeout(() => {
      subscribe.delete(listener);
      reject(new Error(`socket-mode-peer: timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    subscribe.add(listener);
  });

/**
 * Starts a Socket Mode endpoint on 127.0.0.1. The Slack peer answers `apps.connections.open`
 * with {@link SocketModePeer.issueUrl}; tests push events with {@link SocketModePeer.sendEvent}.
 *
 * @example
 * const socket = await startSocketModePeer();
 * const client = new SocketModeClient({ appToken: 'xapp-…', clientOptions: { slackApiUrl } });
 * await client.start();                       // apps.connections.open → issueUrl() → hello
 * const id = socket.sendEvent(mentionBody);
 * await socket.waitForAck(id);
 */
export async function startSocketModePeer(options: SocketModePeerOptions = {}): Promise<SocketModePeer> {
  const appId = options.appId ?? 'A0LOCAL';
  const tickets = new Set<string>();
  const open: WebSocket[] = [];
  const sent: SocketModeEnvelope[] = [];
  const acks: SocketModeAck[] = [];
  const changed = new Set<() => void>();
  const notify = () => {
    for (const listener of [...changed]) listener();
  };

  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    // A ticket is good for one connection, like the URL `apps.connections.open` returns.
    verifyClient: ({ req }: { req: IncomingMessage }) => {
      const ticket = new URL(req.url ?? '/', 'ws://127.0.0.1').searchParams.get('ticket') ?? '';
      return tickets.delete(ticket);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (typeof message.envelope_id !== 'string') return;
      const ack: SocketModeAck = { envelope_id: message.envelope_id, at: performance.now() };
      if (message.payload !== undefined) ack.payload = message.payload;
      acks.push(ack);
      notify();
    });
    socket.on('close', () => {
      const at = open.indexOf(socket);
      if (at >= 0) open.splice(at, 1);
      notify();
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open.length + 1,
        debug_info: { host: 'applink-local', build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: appId },
      }),
    );
    open.push(socket);
    notify();
  });

  let closing: Promise<void> | undefined;
  return {
    issueUrl() {
      const ticket = randomUUID();
      tickets.add(ticket);
      return `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${appId}`;
    },
    get connections() {
      return open.length;
    },
    sent,
    acks,
    waitForConnection: (timeoutMs = 5_000) =>
      waitFor('a connection', timeoutMs, () => (open.length > 0 ? true : undefined), changed).then(
        () => undefined,
      ),
    sendEvent(body, sendOptions = {}) {
      const socket = open.at(-1);
      if (!socket) throw new Error('socket-mode-peer: no client is connected');
      const envelope: SocketModeEnvelope = {
        envelope_id: randomUUID(),
        type: sendOptions.type ?? 'events_api',
        payload: body,
        accepts_response_payload: false,
        retry_attempt: sendOptions.retryAttempt ?? 0,
        retry_reason: sendOptions.retryReason ?? '',
      };
      sent.push(envelope);
      socket.send(JSON.stringify(envelope));
      return envelope.envelope_id;
    },
    waitForAck: (envelopeId, timeoutMs = 5_000) =>
      waitFor(
        `the ack of ${envelopeId}`,
        timeoutMs,
        () => acks.find((a) => a.envelope_id === envelopeId),
        changed,
      ),
    requestReconnect(reason = 'refresh_requested') {
      const message = JSON.stringify({
        type: 'disconnect',
        reason,
        debug_info: { host: 'applink-local' },
      });
      for (const socket of open) socket.send(message);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of server.clients) socket.terminate();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
