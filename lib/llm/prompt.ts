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

/** Image parts in a message's content. */
export function imageParts(content: ChatMessage['content']): number {
  return typeof content === 'string' ? 0 : content.filter((p) => p.type === 'image_url').length;
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

/**
 * Removes the bot's own mention from a question: `<@U123>` and `<@U123|name>`
 * (https://api.slack.com/reference/surfaces/formatting#mentioning-users). When the bot's id is
 * unknown, a mention at the very start is taken to be the bot's (that is how `app_mention` reads).
 */
export function stripBotMention(text: string, botUserId?: string): string {
  const pattern = botUserId
    ? new RegExp(`<@${escapeRegExp(botUserId)}(?:\\|[^>]{0,80})?>`, 'g')
    : /^\s*<@[A-Z0-9]+(?:\|[^>]{0,80})?>/;
  return text
    .replace(pattern, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Builds the messages for one answer: the system prompt, as much of the thread's history as fits
 * in `historyBudget` tokens (newest kept, oldest dropped whole), then the question.
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
}): Promise<ChatMessage[]> {
  const { history, historyBudget } = input;
  let kept = history;
  const bytes = history.reduce(
    (sum, t) => sum + Buffer.byteLength(t.content, 'utf8') + TOKENS_PER_MESSAGE,
    0,
  );
  if (bytes > historyBudget) {
    const count = await input.countTokens();
    let used = 0;
    let start = history.length;
    while (start > 0) {
      const cost = count(history[start - 1]!.content, historyBudget - used) + TOKENS_PER_MESSAGE;
      if (used + cost > historyBudget) break;
      used += cost;
      start--;
    }
    // Never open the history on an assistant answer whose question was dropped.
    while (start < history.length && history[start]!.role === 'assistant') start++;
    kept = history.slice(start);
  }
  return [
    { role: 'system', content: input.systemPrompt },
    ...kept.map((t) => ({ role: t.role, content: t.content })),
    { role: 'user', content: input.question },
  ];
}

/** Loads the o200k_base tokenizer (GPT-4o family) on first use, counting in bounded slices. */
export async function o200kTokenCounter(): Promise<TokenCounter> {
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  return slicedTokenCounter((text) => countTokens(text));
}

/** Texts are counted in slices of at most this many characters. */
export const COUNT_SLICE_CHARS = 500;
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
