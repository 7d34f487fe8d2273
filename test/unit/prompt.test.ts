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
    const { messages } = await buildPrompt({
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
    const { messages } = await buildPrompt({
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
    const { messages } = await buildPrompt({
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

  it('cuts one oversized recent message with a marker and keeps filling with older turns that fit', async () => {
    // Prepare: memory (a question and its answer), two short thread messages, then an
    // 18,000-character log pasted just before the question; a budget of 3,000 tokens.
    const count = await o200kTokenCounter();
    const log = Array.from(
      { length: 600 },
      (_, i) => `2026-12-01T09:${String(i % 60).padStart(2, '0')} ERROR job ${i} failed`,
    )
      .join('\n')
      .slice(0, 18_000);
    const memory: Turn[] = [
      { role: 'user', content: 'Which region do we deploy to?' },
      { role: 'assistant', content: 'You deploy to eu-west-1, remembered from the runbook.' },
    ];
    const thread: Turn[] = [
      { role: 'user', content: 'Alice: the consumer restarted at 09:10', thread: true },
      { role: 'user', content: 'Bob: I paste the log below', thread: true },
      { role: 'user', content: `Bob: ${log}`, thread: true },
    ];
    // Act
    const { messages } = await buildPrompt({
      systemPrompt: 'sys',
      history: [...memory, ...thread],
      question: 'What went wrong?',
      historyBudget: 3_000,
      countTokens: o200kTokenCounter,
    });
    // Assess: every smaller turn is there, in order; the log is cut, marked, and within the budget.
    const sent = messages.slice(1, -1).map((m) => String(m.content));
    expect(sent.slice(0, 4)).toEqual([...memory, ...thread.slice(0, 2)].map((t) => t.content));
    expect(sent).toHaveLength(5);
    expect(sent[4]!.startsWith('Bob: 2026-12-01T09:00 ERROR job 0 failed')).toBe(true);
    expect(sent[4]).toMatch(/\[… cut here: only the first \d+ of 18005 characters of this message fit\]$/);
    expect(count(sent[4]!)).toBeGreaterThan(1_500); // the room the smaller turns left, most of it
    expect(sent.reduce((sum, text) => sum + count(text) + 4, 0)).toBeLessThanOrEqual(3_000);
  });

  it('skips an oversized message when too little room is left to show part of it', async () => {
    // Prepare: the older turns fill the budget but for a few tokens.
    const older: Turn[] = [
      { role: 'user', content: 'word '.repeat(190) },
      { role: 'assistant', content: 'answer' },
    ];
    const huge: Turn = { role: 'user', content: 'x y '.repeat(2_000), thread: true };
    // Act
    const { messages } = await buildPrompt({
      systemPrompt: 'sys',
      history: [...older, huge],
      question: 'q?',
      historyBudget: 220,
      countTokens: o200kTokenCounter,
    });
    // Assess
    expect(messages.slice(1, -1)).toEqual(older.map((t) => ({ role: t.role, content: t.content })));
  });
});
