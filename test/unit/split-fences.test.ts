import { fitInMessage, STREAM_HOLD_CHARS, STREAM_MESSAGE_CHARS } from '../../lib/reply/stream-split';
import { openFence, splitMessage } from '../../lib/slack/message-split';

// Where long answers are cut around code: a block cut in two is closed and reopened, and a one-line
// ```code``` span is not taken for a block.

describe('fitInMessage: a message that fills up inside a code block', () => {
  it('closes the code block and reopens it in the next message when a line without spaces overflows it', () => {
    // Prepare: a stream message that already shows ~10,300 characters, inside an open code block
    // (the hold stretch kept it ending at a line break), and then a 2,000-character line without
    // a space (a base64 blob, a minified JSON line, a long hash list) arrives.
    const lines = Array.from({ length: 700 }, (_, i) => `line${i} = ${i};`).join('\n');
    const shown = `Code:\n\n\`\`\`\n${lines}\n`;
    expect(shown.length).toBeGreaterThan(STREAM_MESSAGE_CHARS - STREAM_HOLD_CHARS);
    // Act
    const fit = fitInMessage(shown, `${'A'.repeat(2_000)}\n\`\`\`\nDone.`, true);
    // Assess: the message is full; what it shows plus its piece closes the block, and the next
    // message reopens it (else the first message ends inside a code block and the rest of the
    // code shows as prose in the next).
    expect(fit.full).toBe(true);
    expect(openFence(`${shown}${fit.piece}`)).toBeUndefined();
    expect(fit.nextPrefix).toBe('```\n');
  });
});

describe('splitMessage: a one-line ```code``` span', () => {
  it('is not taken for the opening of a code block', () => {
    // Prepare: Slack mrkdwn (and models) write a short preformatted span on one line.
    const text = `Run this:\n\`\`\`npm install\`\`\`\n\n${'word '.repeat(1_000)}`;
    // Act
    const parts = splitMessage(text, 3_800);
    // Assess: no fence is added at the cut, and the span is not repeated in the next message.
    expect(parts.length).toBeGreaterThan(1);
    expect(parts[0]!.endsWith('```')).toBe(false);
    expect(parts.join('\n').match(/npm install/g)).toHaveLength(1);
  });
});
