import { buildPrompt, o200kTokenCounter, stripBotMention, type Turn } from '../../lib/llm/prompt';

describe('stripBotMention', () => {
  it('removes the bot’s mention wherever it is, and only the bot’s', () => {
    expect(stripBotMention('<@UBOT> what about <@UOTHER>? <@UBOT|bot>', 'UBOT')).toBe(
      'what about <@UOTHER>?',
    );
  });

  it('removes a leading mention when the bot id is unknown', () => {
    expect(stripBotMention('<@U123ABC>   hello there')).toBe('hello there');
    expect(stripBotMention('hi <@U123ABC>')).toBe('hi <@U123ABC>');
  });
});

describe('buildPrompt', () => {
  const history: Turn[] = Array.from({ length: 20 }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `message number ${i} ${'with some words '.repeat(10)}`,
  }));

  it('sends system prompt, full history and the question when it fits, without loading the tokenizer', async () => {
    let loaded = false;
    const messages = await buildPrompt({
      systemPrompt: 'sys',
      history: history.slice(0, 2),
      question: 'q?',
      historyBudget: 10_000,
      countTokens: async () => {
        loaded = true;
        return (t) => t.length;
      },
    });
    expect(loaded).toBe(false);
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'q?' });
  });

  it('keeps the newest turns that fit the budget, counted with the real tokenizer, starting on a question', async () => {
    // Prepare
    const count = await o200kTokenCounter();
    const perTurn = count(history[0]!.content) + 4;
    // Act
    const messages = await buildPrompt({
      systemPrompt: 'sys',
      history,
      question: 'q?',
      historyBudget: perTurn * 5 + 2,
      countTokens: o200kTokenCounter,
    });
    // Assess: five turns fit; the oldest of them is an answer, so it is dropped too.
    const kept = messages.slice(1, -1);
    expect(kept).toHaveLength(4);
    expect(kept[0]).toEqual(history[16]);
    expect(kept.at(-1)).toEqual(history[19]);
  });

  it('counts Japanese text as the model does, not by characters', async () => {
    const count = await o200kTokenCounter();
    expect(count('hello world')).toBe(2);
    expect(count('日本語のテキスト')).toBeGreaterThan(1);
    expect(count('日本語のテキスト')).toBeLessThan('日本語のテキスト'.length + 1);
  });

  it('counts tokens for a short CJK history that is fewer characters but more tokens than the budget', async () => {
    // '齉' is one UTF-16 unit but two o200k tokens: a character count would wrongly skip counting.
    const count = await o200kTokenCounter();
    const content = '齉'.repeat(20); // 2 turns: 48 characters with overhead, ~88 tokens
    expect(count(content)).toBeGreaterThan(content.length);
    const messages = await buildPrompt({
      systemPrompt: 'sys',
      history: [
        { role: 'user', content },
        { role: 'assistant', content },
      ],
      question: 'q?',
      historyBudget: 60,
      countTokens: o200kTokenCounter,
    });
    expect(messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'q?' },
    ]);
  });
});
