import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A local HTTP server bound to 127.0.0.1, as returned by {@link listen}. */
export interface Listening {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  origin: string;
  /** The port actually bound (a free one when `0` was asked for). */
  port: number;
  /** Stops accepting connections and destroys the open ones (keep-alive and mid-stream alike). */
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1. `port` 0 (the default) picks a free port.
 * The SDK clients keep connections alive, so `close()` destroys every open socket rather than
 * waiting for them: otherwise jest would not exit.
 *
 * @example
 * const server = await listen((req, res) => res.end('ok'));
 * await fetch(`${server.origin}/`);
 * await server.close();
 */
export async function listen(handler: RequestListener, port = 0): Promise<Listening> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** Reads a request's whole body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers `body` as JSON with `status` and any extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
