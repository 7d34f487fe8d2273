import type { Logger } from '@aws-lambda-powertools/logger';
import { buildPrompt, type ChatMessage, type TokenCounter, type Turn } from '../llm/prompt';
import type { AnswerJob } from '../queue/job';
import { isAfter } from '../slack/slack-ts';
import type { FileDownloader } from './file-downloader';
import { readAttachments } from './files';
import type { ThreadMessage, ThreadReader } from './thread-reader';
import { mentionedUsers, readableMentions, type UserNames } from './user-names';

/** The thread, names and files of one answer must be read within this (bounded by time left too). */
const CONTEXT_TIMEOUT_MS = 10_000;

/** The ports and settings {@link gatherContext} works with; built once per bot token (worker-deps.ts). */
export interface ContextPorts {
  threads: ThreadReader;
  names: UserNames;
  files: FileDownloader;
  countTokens: () => Promise<TokenCounter>;
  /** `OPENAI_IMAGE_INPUT`: `off` names images instead of sending them (models without vision). */
  imageInput: 'auto' | 'off';
  /** Longest the thread, names and files may take together (default {@link CONTEXT_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** What one answer's context is gathered from. */
export interface ContextRequest {
  job: Pick<AnswerJob, 'teamId' | 'channel' | 'threadTs' | 'ts' | 'user' | 'files'>;
  /** The question, the bot's mention already stripped. */
  question: string;
  /** The thread's Momento memory, oldest first. */
  memory: Turn[];
  systemPrompt: string;
  /** `HISTORY_TOKEN_BUDGET`: memory, thread and inlined files together. */
  historyBudget: number;
  botUserId?: string | undefined;
  /** Milliseconds this step may take at most (the caller's time left, bounded by `timeoutMs`). */
  timeMs: number;
}

/** The model's messages, and the turns to remember once the answer is given. */
export interface GatheredContext {
  messages: ChatMessage[];
  /** Thread messages sent for the first time, then the question (with stand-ins for images). */
  remember: Turn[];
  /**
   * With images attached: the same messages with the images named instead of sent, for one more
   * try when the model refuses an image (it refuses the whole request for one it cannot read).
   */
  withoutImages?: ChatMessage[];
}

/** Inlined text files may take this share of the budget; memory and thread get the rest. */
export const FILES_SHARE = 0.75;

/**
 * Gathers what the model gets for one answer: the system prompt, the thread as people see it,
 * the question marked as the one asked now, and the files attached to it.
 *
 * - A reply in a thread the bot has no memory of (a first mention in an existing thread, or
 *   memory expired) reads the whole thread up to the question; the bot's messages are `assistant`
 *   turns, everyone else's `user` turns that name the author.
 * - A thread it remembers adds only what was posted since the last question it remembered, not
 *   by the bot and not mentioning it (`oldest`), minus anything memory already holds (by `ts`):
 *   nothing is sent twice.
 * - A top-level message (no thread yet; a DM without threads) is answered from memory alone.
 * - The newest turns that fit the budget are kept (an oversized one cut, see `fitHistory`); the
 *   question always is.
 * Reading Slack never fails the answer: the reader and the name lookup degrade.
 */
export async function gatherContext(
  request: ContextRequest,
  ports: ContextPorts,
  logger: Logger,
): Promise<GatheredContext> {
  const { job, memory, botUserId } = request;
  const deadline = Date.now() + Math.max(0, Math.min(request.timeMs, ports.timeoutMs ?? CONTEXT_TIMEOUT_MS));
  const { messages: read, partial } = await readThread(request, ports.threads, deadline, logger);
  const marked = read.some((m) => !isBot(m, botUserId)) || memory.some((t) => t.thread);

  const ids = new Set<string>();
  for (const m of read) {
    if (m.user && !isBot(m, botUserId)) ids.add(m.user);
    for (const id of mentionedUsers(m.text)) ids.add(id);
  }
  for (const id of mentionedUsers(request.question)) ids.add(id);
  if (marked) ids.add(job.user);
  if (botUserId) ids.delete(botUserId);
  const names = ids.size > 0 ? await ports.names.names(job.teamId, [...ids], deadline, logger) : new Map();
  if (botUserId) names.set(botUserId, 'you');
  const nameOf = (id: string) => names.get(id) ?? `<@${id}>`;

  const fresh: Turn[] = read.map((m) => {
    const files = m.files.map((f) => ` [file: ${f}]`).join('');
    const text = readableMentions(m.text, names) + files;
    if (isBot(m, botUserId)) return { role: 'assistant', content: text, ts: m.ts };
    const author = m.user ? nameOf(m.user) : (m.botName ?? 'an app');
    return { role: 'user', content: `${author}: ${text}`, ts: m.ts, thread: true };
  });

  const files = job.files ?? [];
  const attachments =
    files.length > 0
      ? await readAttachments(files, ports.files, {
          imageInput: ports.imageInput,
          deadline,
          textBudget: Math.floor(request.historyBudget * FILES_SHARE),
          count: await ports.countTokens(),
          logger,
        })
      : undefined;

  const asked = readableMentions(request.question, names);
  // Pages come oldest first: a read cut short (limit, timeout, 429) misses the newest messages.
  const missing = partial ? PARTIAL_THREAD_NOTE : undefined;
  const body =
    [asked, attachments?.text, missing].filter((s) => s).join('\n\n') || '(Only the attached image.)';
  const question = marked ? `The question ${nameOf(job.user)} asks you now:\n${body}` : body;
  const history = [...memory, ...fresh];
  const { messages, sent } = await buildPrompt({
    systemPrompt: request.systemPrompt,
    history,
    question,
    historyBudget: Math.max(0, request.historyBudget - (attachments?.tokens ?? 0)),
    // Its own counter: a counter counts a bounded number of characters exactly (lib/llm/prompt.ts),
    // and the files may have used that of the one above.
    countTokens: ports.countTokens,
  });
  let withoutImages: ChatMessage[] | undefined;
  if (attachments && attachments.images.length > 0) {
    const named = attachments.imageNames.map(
      (name) => `(An image named ${name} was attached but could not be shown to you.)`,
    );
    withoutImages = [...messages.slice(0, -1), { role: 'user', content: [question, ...named].join('\n\n') }];
    messages[messages.length - 1] = {
      role: 'user',
      content: [{ type: 'text', text: question }, ...attachments.images],
    };
  }

  // The thread messages buildPrompt sent (whole or cut) are remembered, whole.
  const sentSet = new Set(sent);
  const keptFresh = fresh.filter((turn) => sentSet.has(turn));
  const remembered = [marked ? `${nameOf(job.user)}: ${body}` : body, attachments?.standIns]
    .filter((s) => s)
    .join('\n');
  logger.info('context gathered', {
    memoryTurns: memory.length,
    threadMessages: read.length,
    sentTurns: sent.length,
    images: attachments?.images.length ?? 0,
    files: files.length,
    questionChars: body.length,
  });
  return {
    messages,
    remember: [...keptFresh, { role: 'user', content: remembered, ts: job.ts }],
    ...(withoutImages ? { withoutImages } : {}),
  };
}

/** Added to the question when the thread could be read only in part. */
export const PARTIAL_THREAD_NOTE =
  '(Only part of this thread could be read: its most recent messages may be missing above.)';

/** The thread messages the prompt does not have yet, oldest first; `partial` when the read stopped early. */
async function readThread(
  request: ContextRequest,
  threads: ThreadReader,
  deadline: number,
  logger: Logger,
): Promise<{ messages: ThreadMessage[]; partial: boolean }> {
  const { job, memory, botUserId } = request;
  // A top-level message: nothing came before it in its thread.
  if (job.threadTs === job.ts) return { messages: [], partial: false };
  // Since the last thing memory has of people (the last question, or a thread message after it).
  let oldest: string | undefined;
  for (const t of memory) if (t.role === 'user' && t.ts && isAfter(t.ts, oldest)) oldest = t.ts;
  // Memory from before turns carried their ts.
  if (memory.length > 0 && oldest === undefined) return { messages: [], partial: false };
  const read = await threads.read({
    channel: job.channel,
    threadTs: job.threadTs,
    latest: job.ts,
    deadline,
    ...(oldest ? { oldest } : {}),
  });
  if (read.stoppedBy) {
    logger.warn('read the thread only in part; answering with what was read', {
      slackError: read.stoppedBy,
      retryAfter: read.retryAfter,
      read: read.messages.length,
      calls: read.calls,
    });
  }
  const known = new Set(memory.map((t) => t.ts));
  const mention = botUserId ? `<@${botUserId}` : undefined;
  const messages = read.messages.filter(
    (m) =>
      (m.text.trim() !== '' || m.files.length > 0) &&
      (memory.length === 0 ||
        (!known.has(m.ts) && !isBot(m, botUserId) && !(mention && m.text.includes(mention)))),
  );
  return { messages, partial: Boolean(read.stoppedBy) };
}

/** Whether the bot wrote `m`: by its user id when known, else any app's message counts. */
function isBot(m: ThreadMessage, botUserId: string | undefined): boolean {
  return botUserId ? m.user === botUserId : m.botId !== undefined;
}
