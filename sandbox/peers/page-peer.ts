import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from './listen';

/** One page the peer serves. */
export interface PageSpec {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long before answering; `Infinity`: never answer (until the client gives up). */
  delayMs?: number;
}

/** One request the peer received. */
export interface PageRequest {
  path: string;
  /** `performance.now()` when it arrived. */
  at: number;
  /** When the page was sent. */
  answeredAt?: number;
  /** The client closed the connection before the page was sent (it aborted the request). */
  abortedAt?: number;
}

/** A local web server for `read_link`, see {@link startPagePeer}. */
export interface PagePeer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly port: number;
  readonly requests: readonly PageRequest[];
  /** Serves `spec` at `path` from now on. */
  page(path: string, spec: PageSpec): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * Serves web pages on 127.0.0.1 for `read_link`: HTML, text, other types, redirects (a `Location`
 * header), large or slow pages, and records each request and whether the client aborted it. Only
 * reachable by the bot when its `host:port` is in `READ_LINK_ALLOW_HOSTS` (it is a loopback address).
 */
export async function startPagePeer(): Promise<PagePeer> {
  const pages = new Map<string, PageSpec>();
  const requests: PageRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const record: PageRequest = { path, at: performance.now() };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.abortedAt = performance.now();
    });
    const spec = pages.get(path) ?? {
      status: 404,
      headers: { 'content-type': 'text/plain' },
      body: 'not found',
    };
    const send = () => {
      res.writeHead(spec.status ?? 200, spec.headers ?? { 'content-type': 'text/html; charset=utf-8' });
      res.end(spec.body ?? '');
      record.answeredAt = performance.now();
    };
    if (spec.delayMs === Number.POSITIVE_INFINITY) return;
    if (!spec.delayMs) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) send();
    }, spec.delayMs);
    timers.add(timer);
  };
  const server = await listen(handle);
  return {
    origin: server.origin,
    port: Number(new URL(server.origin).port),
    requests,
    page(path, spec) {
      pages.set(path, spec);
    },
    reset() {
      pages.clear();
      requests.length = 0;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      return server.close();
    },
  };
}
