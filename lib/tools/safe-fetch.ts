import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { isIP } from 'node:net';
import { AppError } from '../errors';
import { isBlockedAddress } from './address-policy';

/** Resolves a host name to its addresses (the system's DNS unless a test passes its own). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** The operating system's resolver, every address it knows. */
export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true });

/** Why a page was not read; `reason` is what the model and the step are told. */
export type FetchRefusal =
  | 'bad_url'
  | 'private_address'
  | 'too_many_redirects'
  | 'not_text'
  | 'too_large'
  | 'http_error'
  | 'timeout'
  | 'unreachable';

/** A page that was not read, and why. Carries no page text. */
export class FetchRefusedError extends AppError {
  readonly reason: FetchRefusal;
  readonly status: number | undefined;
  constructor(reason: FetchRefusal, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.status = options?.status;
  }
}

/** What a read gave. */
export interface FetchedPage {
  /** Where the page was finally read from, after redirects. */
  url: string;
  contentType: string;
  text: string;
  bytes: number;
}

export interface SafeFetchOptions {
  resolve: Resolver;
  /** `host:port` pairs (lowercase) exempt from the private-address rule, and only from it. */
  allowHosts: ReadonlySet<string>;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  signal: AbortSignal;
  /** Which addresses are refused; the real policy unless a test changes what counts as public. */
  isBlocked?: (address: string) => boolean;
}

/** Types read as text: `text/*`, JSON, XML, YAML, JavaScript. */
function isTextType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    /^application\/(json|xml|xhtml\+xml|javascript|ecmascript|x-yaml|yaml|x-ndjson|ld\+json)$/.test(type) ||
    /^application\/[\w.-]+\+(json|xml)$/.test(type)
  );
}

/**
 * GETs an http(s) URL a person named, without ever reaching an address that is not on the public
 * Internet: the host is resolved by `resolve`, every address it answers is checked, and the
 * connection goes to exactly the checked address (a custom `lookup` on the request, so a second
 * DNS answer can never be used: no DNS rebinding); the socket's remote address is checked again
 * once connected; every redirect (at most `maxRedirects`) is checked the same way. A `host:port` in
 * `allowHosts` is exempt from the private-address rule only. Only text-like types, at most
 * `maxBytes`, all within `timeoutMs`; `signal` (Stop) aborts the request.
 * @throws {FetchRefusedError} naming why nothing was read.
 */
export async function safeFetch(url: string, options: SafeFetchOptions): Promise<FetchedPage> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await get(current, options, signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.destroy();
      if (hop >= options.maxRedirects) {
        throw new FetchRefusedError('too_many_redirects', `more than ${options.maxRedirects} redirects`);
      }
      current = new URL(location, current).href;
      continue;
    }
    if (status < 200 || status >= 300) {
      response.destroy();
      throw new FetchRefusedError('http_error', `the server answered ${status}`, { status });
    }
    const contentType = String(response.headers['content-type'] ?? '');
    if (!isTextType(contentType)) {
      response.destroy();
      throw new FetchRefusedError('not_text', `not a text type (${contentType.split(';')[0] || 'none'})`);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.destroy();
      throw new FetchRefusedError('too_large', `larger than ${options.maxBytes} bytes`);
    }
    const body = await readAtMost(response, options.maxBytes, signal);
    return { url: current, contentType, text: decode(body, contentType), bytes: body.length };
  }
}

/** One GET, connected only to a checked address. */
function get(url: string, options: SafeFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new FetchRefusedError('bad_url', 'not a URL'));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new FetchRefusedError('bad_url', 'only http and https links are read'));
  }
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  const exempt = options.allowHosts.has(`${host}:${port}`);
  const blocked = (address: string) => !exempt && (options.isBlocked ?? isBlockedAddress)(address);
  if (isIP(host) && blocked(host)) {
    return Promise.reject(new FetchRefusedError('private_address', 'the address is not public'));
  }
  let refusal: FetchRefusedError | undefined;
  // Node calls this instead of dns.lookup for the connection: the address it returns is the one
  // connected to (https://nodejs.org/api/http.html#httprequesturl-options-callback, `lookup`).
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    options.resolve(hostname).then(
      (addresses) => {
        const bad = addresses.find((a) => blocked(a.address));
        if (addresses.length === 0 || bad) {
          refusal = new FetchRefusedError(
            bad ? 'private_address' : 'unreachable',
            bad ? 'the host resolves to an address that is not public' : 'the host has no address',
          );
          return callback(refusal, '', 4);
        }
        const chosen = addresses[0]!;
        if ((lookupOptions as { all?: boolean }).all) return callback(null, [chosen] as never, chosen.family);
        callback(null, chosen.address, chosen.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 4),
    );
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, {
      method: 'GET',
      agent: false,
      lookup,
      signal,
      headers: { 'user-agent': 'slack-gpt-bot read_link', accept: 'text/html, text/*;q=0.9, */*;q=0.1' },
    });
    req.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        // The address actually connected to, whatever resolved it.
        if (socket.remoteAddress && blocked(socket.remoteAddress)) {
          refusal = new FetchRefusedError('private_address', 'connected to an address that is not public');
          req.destroy(refusal);
        }
      });
    });
    req.on('response', resolve);
    req.on('error', (error) => reject(refusal ?? classify(error, signal)));
    req.end();
  });
}

function classify(error: Error, signal: AbortSignal): Error {
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined;
    if (reason?.name === 'TimeoutError') return new FetchRefusedError('timeout', 'the page took too long');
    return reason ?? error;
  }
  return new FetchRefusedError('unreachable', 'the page could not be reached', { cause: error });
}

/** The body, or a refusal once it passes `max` bytes. */
function readAtMost(response: IncomingMessage, max: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const abort = () => {
      response.destroy();
      reject(classify(new Error('aborted'), signal));
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        signal.removeEventListener('abort', abort);
        response.destroy();
        reject(new FetchRefusedError('too_large', `larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => {
      signal.removeEventListener('abort', abort);
      resolve(Buffer.concat(chunks));
    });
    response.on('error', (error) => {
      signal.removeEventListener('abort', abort);
      reject(classify(error, signal));
    });
  });
}

function decode(body: Buffer, contentType: string): string {
  const charset = /charset=["']?([\w-]+)/i.exec(contentType)?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}
