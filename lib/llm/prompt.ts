/** One remembered message of a thread. */
export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** A chat message as sent to the model. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Counts tokens of a text the way the model does. */
export type TokenCounter = (text: string) => number;

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
    ? new RegExp(`<@${escapeRegExp(botUserId)}(?:\\|[^>]*)?>`, 'g')
    : /^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/;
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
      const cost = count(history[start - 1]!.content) + TOKENS_PER_MESSAGE;
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

/** Loads the o200k_base tokenizer (GPT-4o family) on first use. */
export async function o200kTokenCounter(): Promise<TokenCounter> {
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  return (text) => countTokens(text);
}
