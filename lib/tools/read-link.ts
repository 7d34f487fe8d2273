import type { WebClient } from '@slack/web-api';
import type { UserNames } from '../context/user-names';
import type { ChatMessage } from '../llm/prompt';
import { contentText } from '../llm/prompt';
import { abortableClient } from '../slack/web-client';
import { FetchRefusedError, type Resolver, safeFetch } from './safe-fetch';
import { failed, stringArg, type Tool, type ToolOutcome } from './tool';

/** read_link's limits: text-like pages of at most 2 MB, read within 10 s, at most 3 redirects. */
export const READ_LINK_LIMITS = { maxBytes: 2 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 3 } as const;
/** Messages of a Slack thread a Slack link is read with (one `conversations.replies` page). */
const SLACK_THREAD_LIMIT = 50;

/** Where the question was asked: the only conversation a Slack message link may be read from. */
export interface LinkScope {
  teamId: string;
  channel: string;
  /** Every http(s) URL people wrote in the question and the thread (see {@link linksNamedByPeople}). */
  named: ReadonlySet<string>;
}

/**
 * The http(s) URLs that appear in what people wrote: the `user` turns of the prompt (the question,
 * the thread's messages by people, remembered questions), before any tool ran. Never the bot's own
 * answers, never tool results: a URL the model made up or read somewhere cannot be fetched, which
 * closes the path where injected text makes the bot send data to someone's server. Slack writes
 * links as `<https://…|label>`; each URL is normalised (`new URL().href`).
 */
export function linksNamedByPeople(messages: readonly ChatMessage[]): Set<string> {
  const urls = new Set<string>();
  for (const m of messages) {
    if (m.role !== 'user') continue;
    for (const match of contentText(m.content).matchAll(/https?:\/\/[^\s<>|"'`]+/gi)) {
      const url = normalise(match[0].replace(/[.,;:!?)\]}*_~]+$/, ''));
      if (url) urls.add(url);
    }
  }
  return urls;
}

function normalise(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    url.hash = '';
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A Slack message link: `https://<workspace>.slack.com/archives/<channel>/p<ts without dot>`. */
function slackMessageLink(url: URL): { channel: string; ts: string; threadTs?: string } | undefined {
  if (!/(^|\.)slack\.com$/i.test(url.hostname)) return undefined;
  const match = /^\/archives\/([CDG][A-Z0-9]+)(?:\/p(\d{10})(\d{6}))?\/?$/.exec(url.pathname);
  if (!match) return undefined;
  const ts = match[2] ? `${match[2]}.${match[3]}` : '';
  const threadTs = url.searchParams.get('thread_ts') ?? undefined;
  return { channel: match[1]!, ts, ...(threadTs ? { threadTs } : {}) };
}

/** `example.com/path` for titles and traces: no scheme, no query. */
function shortUrl(raw: string | undefined): string {
  if (!raw) return 'a link';
  try {
    const url = new URL(raw);
    return `${url.hostname}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return 'a link';
  }
}

/**
 * `read_link`: reads a web page a person named in the question or the thread (see
 * {@link linksNamedByPeople}), with {@link safeFetch}: never a private, loopback, link-local, CGNAT,
 * multicast or metadata address, on any redirect or on the address connected to;
 * `allowHosts` (`READ_LINK_ALLOW_HOSTS`) exempts named `host:port`s from that rule only. HTML
 * becomes readable text with html-to-text (https://www.npmjs.com/package/html-to-text); the loop
 * cuts long pages to a share of the token budget. A Slack message link is not fetched over HTTP:
 * it is read with `conversations.replies` (https://docs.slack.dev/reference/methods/conversations.replies)
 * when it points into the conversation the question was asked in; otherwise the model is told to
 * use `search_slack`, which sees only what the asker may see.
 */
export function readLinkTool(
  client: WebClient,
  scope: LinkScope,
  ports: {
    names: UserNames;
    resolve: Resolver;
    allowHosts: ReadonlySet<string>;
    isBlocked?: (a: string) => boolean;
  },
): Tool {
  return {
    name: 'read_link',
    description:
      'Read the text of a web page or Slack message link that a person wrote in this conversation. ' +
      'Only links that appear in the question or in people’s messages of the thread can be read.',
    parameters: {
      type: 'object',
      properties: {
        url: { type: 'string', description: 'The http(s) link exactly as the person wrote it.' },
      },
      required: ['url'],
      additionalProperties: false,
    },
    title: (args) => `Reading ${shortUrl(stringArg(args, 'url'))}`,
    trace: (args) => `read a link: ${shortUrl(stringArg(args, 'url'))}`,
    async run(args, context) {
      const url = normalise(stringArg(args, 'url') ?? '');
      if (!url || !scope.named.has(url)) {
        return failed(
          'Only links that people wrote in this conversation can be read, and this one is not among them. ' +
            'Do not guess links.',
          'Not a link from this conversation',
        );
      }
      const slack = slackMessageLink(new URL(url));
      if (slack) return readSlackLink(slack, url);
      try {
        const page = await safeFetch(url, {
          resolve: ports.resolve,
          allowHosts: ports.allowHosts,
          isBlocked: ports.isBlocked,
          ...READ_LINK_LIMITS,
          signal: context.signal,
        });
        const html = /html/i.test(page.contentType);
        const text = html ? htmlText(page.text) : page.text;
        const title = html ? /<title[^>]*>([^<]{1,200})<\/title>/i.exec(page.text)?.[1]?.trim() : undefined;
        return {
          ok: true,
          content: `Page ${page.url}${title ? ` (“${title}”)` : ''}:\n${text}`,
          output: `Read ${Math.max(1, Math.round(page.bytes / 1024))} KB`,
          sources: [{ url: page.url, text: title || shortUrl(page.url) }],
        };
      } catch (error) {
        if (!(error instanceof FetchRefusedError)) throw error;
        context.logger.warn('read_link refused a page', { reason: error.reason, status: error.status });
        return failed(
          `The page was not read: ${error.message}. Answer without it, and say so.`,
          REASONS[error.reason],
        );
      }

      async function readSlackLink(
        link: NonNullable<ReturnType<typeof slackMessageLink>>,
        href: string,
      ): Promise<ToolOutcome> {
        if (link.channel !== scope.channel || !link.ts) {
          return failed(
            'That Slack link points to another conversation: read_link only reads messages of this one. ' +
              'Use search_slack to find it (it sees only what the person asking may see).',
            'Another conversation: use search',
          );
        }
        let messages: Array<{ user?: string; text?: string; ts?: string }>;
        try {
          const response = await abortableClient(client, context.signal).conversations.replies({
            channel: link.channel,
            ts: link.threadTs ?? link.ts,
            limit: SLACK_THREAD_LIMIT,
          });
          messages = (response.messages ?? []) as typeof messages;
        } catch (error) {
          if (context.signal.aborted) throw error;
          const code = (error as { data?: { error?: string } }).data?.error ?? 'request_error';
          return failed(
            `Slack did not return that message (${code}). Answer without it.`,
            `Not read (${code})`,
          );
        }
        const ids = [...new Set(messages.flatMap((m) => (m.user ? [m.user] : [])))];
        const named = await ports.names.names(scope.teamId, ids, context.deadline, context.logger);
        const lines = messages.map((m) => `${(m.user && named.get(m.user)) ?? 'someone'}: ${m.text ?? ''}`);
        return {
          ok: true,
          content: `Slack messages at ${href}:\n${lines.join('\n')}`,
          output: `Read ${messages.length} message${messages.length === 1 ? '' : 's'}`,
          sources: [{ url: href, text: 'Slack message' }],
        };
      }
    },
  };
}

const REASONS: Record<FetchRefusedError['reason'], string> = {
  bad_url: 'Not an http(s) link',
  private_address: 'Refused: not a public address',
  too_many_redirects: 'Refused: too many redirects',
  not_text: 'Refused: not a text page',
  too_large: 'Refused: larger than 2 MB',
  http_error: 'The site answered with an error',
  timeout: 'Took too long',
  unreachable: 'Could not be reached',
};

/** Readable text of an HTML page: no markup, no images, link targets dropped. */
function htmlText(html: string): string {
  // Loaded when a page is HTML: the converter and its parser are not needed at every cold start.
  const { convert } = require('html-to-text') as typeof import('html-to-text');
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
    ],
  }).trim();
}
