import { AttachmentError } from '../../lib/context/errors';
import type { FileDownloader } from '../../lib/context/file-downloader';
import type { ContextPorts } from '../../lib/context/gather-context';
import type { ThreadMessage, ThreadReader } from '../../lib/context/thread-reader';
import type { UserNames } from '../../lib/context/user-names';
import type { TokenCounter } from '../../lib/llm/prompt';
import { isAfter } from '../../lib/slack/slack-ts';

/**
 * In-memory fakes of the context ports (lib/context): a Slack thread, a directory of names and a
 * store of private files. Our own interfaces, never Slack's SDK.
 */

/**
 * A {@link ThreadReader} over `messages` (oldest first): each read returns those strictly between
 * `oldest` and `latest`, as `conversations.replies` bounds them. `stoppedBy` makes every read stop
 * early with only the first `readOnly` messages (a 429, a timeout, the page limit).
 */
export function memoryThread(
  messages: ThreadMessage[],
  options: { stoppedBy?: string; readOnly?: number } = {},
) {
  const reads: Array<Parameters<ThreadReader['read']>[0]> = [];
  const reader: ThreadReader = {
    async read(input) {
      reads.push(input);
      const between = messages.filter((m) => isAfter(m.ts, input.oldest) && isAfter(input.latest, m.ts));
      if (options.stoppedBy === undefined) return { messages: between, calls: 1 };
      return { messages: between.slice(0, options.readOnly ?? 0), stoppedBy: options.stoppedBy, calls: 1 };
    },
  };
  return { reader, reads };
}

/** A message of a thread, as the reader gives it. */
export function threadMessage(
  ts: string,
  user: string | undefined,
  text: string,
  more: Partial<ThreadMessage> = {},
) {
  return { ts, ...(user ? { user } : {}), text, files: [], ...more } satisfies ThreadMessage;
}

/**
 * {@link UserNames} from a directory of display names; anyone not in it keeps their `<@U…>`, as the
 * Slack adapter does when a lookup fails. `asked` keeps the ids each call asked for.
 */
export function knownNames(directory: Record<string, string>) {
  const asked: string[][] = [];
  const names: UserNames = {
    async names(_teamId, ids) {
      asked.push([...ids]);
      return new Map(ids.map((id) => [id, directory[id] ?? `<@${id}>`]));
    },
  };
  return { names, asked };
}

/**
 * A {@link FileDownloader} over private URLs: bytes for a known URL, an {@link AttachmentError}
 * for the ones given as errors, and `http_status` (as a 404 would) for any other.
 */
export function memoryFiles(files: Record<string, Buffer | AttachmentError>) {
  const downloads: string[] = [];
  const downloader: FileDownloader = {
    async download(url, { maxBytes }) {
      downloads.push(url);
      const file = files[url];
      if (file === undefined) throw new AttachmentError('http_status', 'download answered HTTP 404');
      if (file instanceof AttachmentError) throw file;
      if (file.length > maxBytes) throw new AttachmentError('too_large', `file is ${file.length} bytes`);
      return file;
    },
  };
  return { downloader, downloads };
}

/**
 * One token per UTF-8 byte: the upper bound the prompt code relies on (o200k never makes more
 * tokens than bytes), and easy to reckon with in a test.
 */
export const byteTokens: TokenCounter = (text) => Buffer.byteLength(text, 'utf8');

/** The context ports of one answer, from the fakes above (an empty thread, nobody named, no files). */
export function contextPorts(ports: Partial<ContextPorts> = {}): ContextPorts {
  return {
    threads: memoryThread([]).reader,
    names: knownNames({}).names,
    files: memoryFiles({}).downloader,
    countTokens: async () => byteTokens,
    imageInput: 'auto',
    timeoutMs: 5_000,
    ...ports,
  };
}

/** The eight-byte PNG signature and a little more: what {@link imageTypeOf} recognises as a PNG. */
export const PNG_BYTES = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(16, 7)]);
