import { truncateToTokens } from './cut-to-tokens';

/** One remembered message of a thread. */
export interface Turn {
  role: 'user' | 'assistant';
  content: string;
  /** The Slack `ts` of the message this turn stands for, when known (to never send it twice). */
  ts?: string;
  /** Set on turns read from the Slack thread (other people's messages), not asked of the bot. */
  thread?: boolean;
}

/** A part of a user message: text, or an image as a URL (a `data:` URL for Slack's private files). */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** A function call the model asked for (https://platform.openai.com/docs/guides/function-calling). */
export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them: JSON text, not yet parsed or trusted. */
  arguments: string;
}

/**
 * A chat message as sent to the model. `content` is text, or parts for a question with images
 * (https://platform.openai.com/docs/guides/images-vision). An `assistant` message may carry the
 * tool calls it asked for; a `tool` message answers one of them by `toolCallId`.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | ContentPart[];
  toolCalls?: ToolCall[];
  toolCallId?: string;
}

/**
 * The text of a message's content, for counting: its text parts joined (images are counted
 * apart, see {@link IMAGE_TOKENS_ESTIMATE}).
 */
export function contentText(content: ChatMessage['content']): string {
  return typeof content === 'string'
    ? content
    : content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/**
 * A rough token cost of one image when the server reports no usage: OpenAI bills a low-detail
 * image at 85 tokens and a high-detail one at 85 + 170 per 512 px tile
 * (https://platform.openai.com/docs/guides/images-vision#calculating-costs); a 1024 px image at
 * high detail is 765.
 */
export const IMAGE_TOKENS_ESTIMATE = 765;

/**
 * Counts tokens of a text the way the model does. With `limit`, it may stop once the count is
 * past `limit` and return any number above it (enough to know the text does not fit).
 */
export type TokenCounter = (text: string, limit?: number) => number;

/**
 * OpenAI's chat format adds a few tokens per message around its content
 * (https://cookbook.openai.com/examples/how_to_count_tokens_with_tiktoken).
 */
const TOKENS_PER_MESSAGE = 4;

/** A message's tokens in the chat format, each image at {@link IMAGE_TOKENS_ESTIMATE}. */
export function messageTokens(m: ChatMessage, count: TokenCounter): number {
  const images = typeof m.content === 'string' ? 0 : m.content.filter((p) => p.type === 'image_url').length;
  return TOKENS_PER_MESSAGE + count(contentText(m.content)) + images * IMAGE_TOKENS_ESTIMATE;
}

/**
 * Removes the bot's own mention from a question: `<@U123>` and `<@U123|name>`
 * (https://api.slack.com/reference/surfaces/formatting#mentioning-users). When the bot's id is
 * unknown, a mention at the very start is taken to be the bot's (that is how `app_mention` reads).
 */
export function stripBotMention(text: string, botUserId?: string): string {
  const pattern = botUserId
    ? new RegExp(`<@${botUserId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\|[^>]{0,80})?>`, 'g')
    : /^\s*<@[A-Z0-9]+(?:\|[^>]{0,80})?>/;
  return text
    .replace(pattern, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** What {@link buildPrompt} made: the messages, and which history turns they hold. */
export interface BuiltPrompt {
  messages: ChatMessage[];
  /** The history turns that were sent (the originals, also of those sent cut), oldest first. */
  sent: Turn[];
}

/**
 * Builds the messages for one answer: the system prompt, as much of the thread's history as fits
 * in `historyBudget` tokens (see {@link fitHistory}), then the question.
 * `countTokens` is called only when the history could exceed the budget: o200k is a byte-level
 * BPE, so a token covers at least one UTF-8 byte, and a history of no more bytes than the budget
 * always fits. (Not characters: one CJK character can be two or three tokens.) That keeps the
 * tokenizer (hundreds of milliseconds to load) off the common path.
 */
export async function buildPrompt(input: {
  systemPrompt: string;
  history: Turn[];
  question: string;
  historyBudget: number;
  countTokens: () => Promise<TokenCounter>;
}): Promise<BuiltPrompt> {
  const { history, historyBudget } = input;
  const bytes = history.reduce(
    (sum, t) => sum + Buffer.byteLength(t.content, 'utf8') + TOKENS_PER_MESSAGE,
    0,
  );
  const fitted =
    bytes > historyBudget
      ? fitHistory(history, historyBudget, await input.countTokens())
      : history.map((turn) => ({ turn, content: turn.content }));
  return {
    messages: [
      { role: 'system', content: input.systemPrompt },
      ...fitted.map(({ turn, content }) => ({ role: turn.role, content })),
      { role: 'user', content: input.question },
    ],
    sent: fitted.map(({ turn }) => turn),
  };
}

/** A turn that does not fit and would take more than this share of the budget is oversized. */
const OVERSIZED_SHARE = 0.5;
/** An oversized turn is shown cut only if at least this many tokens of it would fit. */
const MIN_CUT_TOKENS = 64;
/** Room kept for the marker after a cut turn (`[… cut here: …]` is about 20 tokens). */
const CUT_MARKER_TOKENS = 32;

/**
 * The turns of `history` that fit in `budget` tokens, oldest first, each whole or cut:
 * - from the newest back, each turn that fits is kept whole;
 * - an oversized turn (one that alone would take more than {@link OVERSIZED_SHARE} of the budget:
 *   a pasted log, a long file) is set aside, and older turns keep filling the budget, so one huge
 *   message never hides the memory and the smaller messages before it;
 * - the first other turn that does not fit ends the history there (older ones are older context);
 * - the room left then shows the head of each oversized turn, newest first, cut with a marker
 *   (when at least {@link MIN_CUT_TOKENS} of it fit), at its place in the thread;
 * - the history never opens on an answer whose question was dropped.
 */
function fitHistory(
  history: Turn[],
  budget: number,
  count: TokenCounter,
): Array<{ turn: Turn; content: string }> {
  const whole = new Set<number>();
  const aside: number[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    // Counted far enough to know whether the turn fits, and whether it is oversized.
    const limit = Math.max(budget - used, budget * OVERSIZED_SHARE);
    const cost = count(history[i]!.content, limit) + TOKENS_PER_MESSAGE;
    if (used + cost <= budget) {
      whole.add(i);
      used += cost;
    } else if (cost > budget * OVERSIZED_SHARE) aside.push(i);
    else break;
  }
  const cut = new Map<number, string>();
  for (const i of aside) {
    const room = budget - used - TOKENS_PER_MESSAGE - CUT_MARKER_TOKENS;
    if (room < MIN_CUT_TOKENS) break;
    const original = history[i]!.content;
    const head = truncateToTokens(original, room, count);
    cut.set(
      i,
      `${head.text}\n[… cut here: only the first ${head.text.length} of ${original.length} characters of ` +
        `this message fit]`,
    );
    used += head.tokens + CUT_MARKER_TOKENS + TOKENS_PER_MESSAGE;
  }
  const fitted = history.flatMap((turn, i) => {
    const content = whole.has(i) ? turn.content : cut.get(i);
    return content === undefined ? [] : [{ turn, content }];
  });
  while (fitted[0]?.turn.role === 'assistant') fitted.shift();
  return fitted;
}

/** Loads the o200k_base tokenizer (GPT-4o family) on first use, counting in bounded slices. */
export async function o200kTokenCounter(): Promise<TokenCounter> {
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  return slicedTokenCounter((text) => countTokens(text));
}

/** Texts are counted in slices of at most this many characters. */
const COUNT_SLICE_CHARS = 500;
/** One counter counts this many characters exactly; past that, texts count as their UTF-8 bytes. */
export const EXACT_COUNT_CHARS = 12_000;

/**
 * Makes a tokenizer's count cheap on long texts. gpt-tokenizer's BPE is quadratic in the length
 * of a run without spaces (a CJK paragraph is one such run: 10k characters took ~0.4 s here), so
 * a text is counted in slices of at most {@link COUNT_SLICE_CHARS} characters, cut before a space
 * where there is one (o200k's pre-tokenizer starts a piece there, so the count stays exact) and
 * never inside a surrogate pair. A cut inside a run can only stop merges across it, so the sum
 * is at least the true count in practice (test/unit/token-count.test.ts checks it).
 * Counting stops once past `limit`. Even sliced, CJK costs ~2 µs a character, so one counter (one
 * answer's prompt) counts at most {@link EXACT_COUNT_CHARS} characters exactly and the rest as
 * their UTF-8 bytes: o200k is byte-level, a token covers at least one byte, so that never
 * under-counts. 12k characters is about what the default 3,000-token budget holds of English.
 */
export function slicedTokenCounter(count: (text: string) => number): TokenCounter {
  let exactLeft = EXACT_COUNT_CHARS;
  return (text, limit = Number.POSITIVE_INFINITY) => {
    let total = 0;
    let at = 0;
    while (at < text.length) {
      if (total > limit) return total;
      if (exactLeft <= 0) return total + Buffer.byteLength(text.slice(at), 'utf8');
      const end = sliceEnd(text, at);
      total += count(text.slice(at, end));
      exactLeft -= end - at;
      at = end;
    }
    return total;
  };
}

/** Where the slice starting at `start` ends: before the last whitespace of its second half if any. */
function sliceEnd(text: string, start: number): number {
  let end = start + COUNT_SLICE_CHARS;
  if (end >= text.length) return text.length;
  for (let i = end; i > start + COUNT_SLICE_CHARS / 2; i--) {
    if (/\s/.test(text[i]!) && !/\s/.test(text[i - 1]!)) return i;
  }
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // keep a surrogate pair together
  return end;
}
