import { AttachmentError } from './errors';

/** Downloads a private Slack file. */
export interface FileDownloader {
  /** @throws {AttachmentError} refused host, redirect elsewhere, HTTP error, too large, timeout. */
  download(url: string, limits: { maxBytes: number; deadline: number }): Promise<Buffer>;
}

/**
 * Downloads `url_private` files with the bot token
 * (https://docs.slack.dev/reference/objects/file-object: `url_private` needs `Authorization: Bearer`,
 * scope `files:read`). Only from `files.slack.com` over HTTPS or the host of `SLACK_API_URL` (the
 * local peers): the token is never sent anywhere else, and a redirect is followed only on the same
 * host (`redirect: 'manual'`, at most 3).
 */
export function slackFileDownloader(options: {
  botToken: string;
  apiUrl?: string | undefined;
}): FileDownloader {
  // The API's origin (scheme, host and port): the local peers serve plain http; a redirect may
  // not switch an https API to http.
  const apiOrigin = options.apiUrl ? new URL(options.apiUrl).origin : undefined;
  const allowed = (url: URL) =>
    (url.protocol === 'https:' && url.host === 'files.slack.com') ||
    (apiOrigin !== undefined && url.origin === apiOrigin);
  return {
    async download(href, { maxBytes, deadline }) {
      let url = parse(href);
      if (!allowed(url)) throw new AttachmentError('foreign_host', `file host ${url.host} is not Slack's`);
      for (let hops = 0; ; hops++) {
        const left = deadline - Date.now();
        if (left <= 0) throw new AttachmentError('timeout', 'no time left to download');
        let response: Response;
        try {
          response = await fetch(url, {
            headers: { Authorization: `Bearer ${options.botToken}` },
            redirect: 'manual',
            signal: AbortSignal.timeout(left),
          });
        } catch (cause) {
          const timeout = (cause as Error).name === 'TimeoutError';
          throw new AttachmentError(timeout ? 'timeout' : 'network', 'download failed', { cause });
        }
        if (response.status >= 300 && response.status < 400) {
          await response.body?.cancel();
          const next = parse(response.headers.get('location') ?? '', url);
          if (next.origin !== url.origin || !allowed(next) || hops >= 3) {
            throw new AttachmentError('redirect_elsewhere', `redirected to ${next.host}; not followed`);
          }
          url = next;
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new AttachmentError('http_status', `download answered HTTP ${response.status}`);
        }
        return readCapped(response, maxBytes);
      }
    },
  };
}

function parse(href: string, base?: URL): URL {
  try {
    return new URL(href, base);
  } catch (cause) {
    throw new AttachmentError('foreign_host', 'not a URL', { cause });
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new AttachmentError('too_large', `file is ${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new AttachmentError('too_large', `file is over ${maxBytes} bytes`);
      chunks.push(Buffer.from(chunk));
    }
  } catch (cause) {
    if (cause instanceof AttachmentError) throw cause;
    throw new AttachmentError('timeout', 'download cut off', { cause });
  }
  return Buffer.concat(chunks);
}
