import { AttachmentError } from '../../lib/context/errors';
import { type ContextRequest, gatherContext, PARTIAL_THREAD_NOTE } from '../../lib/context/gather-context';
import type { Turn } from '../../lib/llm/prompt';
import {
  contextPorts,
  knownNames,
  memoryFiles,
  memoryThread,
  PNG_BYTES,
  threadMessage,
} from '../support/context-fakes';
import { answerJob } from '../support/fakes';
import { RecordingLogger } from '../support/recording-logger';

/**
 * What the model gets for one answer (lib/context/gather-context.ts), over in-memory fakes of the
 * thread reader, the name directory and the file store: the thread as people see it, the question
 * marked, the files, within the token budget, and what is remembered afterwards.
 */

const SYSTEM = { role: 'system', content: 'You are a helpful assistant.' } as const;
const ROOT = '1700000000.000100';
/** A question in an existing thread, asked after everything below. */
const job = answerJob({ threadTs: ROOT, ts: '1700000000.000900', user: 'U0CAROL' });
const directory = { U0ALICE: 'Alice', U0BOB: 'Bob', U0CAROL: 'Carol' };

function request(overrides: Partial<ContextRequest> = {}): ContextRequest {
  return {
    job,
    question: 'What did they decide?',
    memory: [],
    systemPrompt: SYSTEM.content,
    historyBudget: 3_000,
    botUserId: 'UBOT',
    timeMs: 10_000,
    ...overrides,
  };
}

describe('gatherContext: the thread', () => {
  it('reads a thread it has no memory of: the bot’s messages as its own, everyone else’s named', async () => {
    // Prepare
    const thread = memoryThread([
      threadMessage(ROOT, 'U0ALICE', 'Is the deploy at 5?'),
      threadMessage('1700000000.000200', 'UBOT', 'Yes, at 5 pm.'),
      threadMessage('1700000000.000300', 'U0BOB', 'Can we move it, <@U0ALICE>? cc <@U0GHOST>'),
      threadMessage('1700000000.000400', undefined, 'Build 42 passed', { botId: 'B0CI', botName: 'CI' }),
      threadMessage('1700000000.000500', 'U0ALICE', '', { files: ['plan.txt'] }),
      threadMessage('1700000000.000600', 'U0BOB', '   '),
    ]);
    const names = knownNames(directory);
    // Act
    const context = await gatherContext(
      request(),
      contextPorts({ threads: thread.reader, names: names.names }),
      new RecordingLogger(),
    );
    // Assess
    expect(thread.reads).toEqual([expect.objectContaining({ threadTs: ROOT, latest: job.ts })]);
    expect(thread.reads[0]!.oldest).toBeUndefined();
    expect(names.asked[0]!.sort()).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL', 'U0GHOST']);
    expect(context.messages).toEqual([
      SYSTEM,
      { role: 'user', content: 'Alice: Is the deploy at 5?' },
      { role: 'assistant', content: 'Yes, at 5 pm.' },
      { role: 'user', content: 'Bob: Can we move it, @Alice? cc <@U0GHOST>' },
      { role: 'user', content: 'CI: Build 42 passed' },
      { role: 'user', content: 'Alice:  [file: plan.txt]' },
      { role: 'user', content: 'The question Carol asks you now:\nWhat did they decide?' },
    ]);
    expect(context.remember.map((t) => t.ts)).toEqual([
      ROOT,
      '1700000000.000200',
      '1700000000.000300',
      '1700000000.000400',
      '1700000000.000500',
      job.ts,
    ]);
    expect(context.remember.at(-1)).toEqual({
      role: 'user',
      content: 'Carol: What did they decide?',
      ts: job.ts,
    });
  });

  it('adds to a remembered thread only what people posted since its last question, nothing twice', async () => {
    // Prepare
    const memory: Turn[] = [
      { role: 'user', content: 'Carol: Is the deploy at 5?', ts: ROOT },
      { role: 'assistant', content: 'Yes, at 5 pm.', ts: '1700000000.000200' },
    ];
    const thread = memoryThread([
      threadMessage(ROOT, 'U0CAROL', '<@UBOT> Is the deploy at 5?'),
      threadMessage('1700000000.000200', 'UBOT', 'Yes, at 5 pm.'),
      threadMessage('1700000000.000300', 'U0BOB', 'I moved it to 6.'),
      threadMessage('1700000000.000400', 'U0ALICE', '<@UBOT> and the tests?'),
      threadMessage('1700000000.000500', 'U0ALICE', 'Thanks Bob'),
    ]);
    // Act
    const context = await gatherContext(
      request({ memory }),
      contextPorts({ threads: thread.reader, names: knownNames(directory).names }),
      new RecordingLogger(),
    );
    // Assess
    expect(thread.reads[0]!.oldest).toBe(ROOT);
    expect(context.messages.map((m) => m.content)).toEqual([
      SYSTEM.content,
      'Carol: Is the deploy at 5?',
      'Yes, at 5 pm.',
      'Bob: I moved it to 6.',
      'Alice: Thanks Bob',
      'The question Carol asks you now:\nWhat did they decide?',
    ]);
    expect(context.remember.map((t) => t.ts)).toEqual(['1700000000.000300', '1700000000.000500', job.ts]);
  });

  it('answers a top-level message from memory alone, asking Slack nothing', async () => {
    // Prepare
    const topLevel = answerJob({ threadTs: ROOT, ts: ROOT });
    const memory: Turn[] = [
      { role: 'user', content: 'Hi', ts: '1699999999.000100' },
      { role: 'assistant', content: 'Hello!', ts: '1699999999.000200' },
    ];
    const thread = memoryThread([threadMessage('1699999999.000100', 'U0ASKER', 'Hi')]);
    const names = knownNames(directory);
    // Act
    const context = await gatherContext(
      request({ job: topLevel, memory, question: 'And now?' }),
      contextPorts({ threads: thread.reader, names: names.names }),
      new RecordingLogger(),
    );
    // Assess
    expect(thread.reads).toEqual([]);
    expect(names.asked).toEqual([]);
    expect(context.messages).toEqual([
      SYSTEM,
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'And now?' },
    ]);
    expect(context.remember).toEqual([{ role: 'user', content: 'And now?', ts: ROOT }]);
  });

  it('answers with the part of a thread it could read, saying that the newest messages may be missing', async () => {
    // Prepare
    const thread = memoryThread(
      [
        threadMessage(ROOT, 'U0ALICE', 'Is the deploy at 5?'),
        threadMessage('1700000000.000300', 'U0BOB', 'No, at 6.'),
      ],
      { stoppedBy: 'ratelimited', readOnly: 1 },
    );
    const logger = new RecordingLogger();
    // Act
    const context = await gatherContext(
      request(),
      contextPorts({ threads: thread.reader, names: knownNames(directory).names }),
      logger,
    );
    // Assess
    expect(context.messages.map((m) => m.content)).toEqual([
      SYSTEM.content,
      'Alice: Is the deploy at 5?',
      `The question Carol asks you now:\nWhat did they decide?\n\n${PARTIAL_THREAD_NOTE}`,
    ]);
    expect(logger.at('WARN')).toContainEqual(expect.objectContaining({ slackError: 'ratelimited', read: 1 }));
  });

  it('keeps the newest thread messages that fit the budget, and the question always', async () => {
    // Prepare: each message is 47 bytes ("Alice: " and 40), 51 tokens with the message's own 4.
    const texts = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(40));
    const thread = memoryThread(
      texts.map((text, i) => threadMessage(`1700000000.00020${i}`, 'U0ALICE', text)),
    );
    // Act
    const context = await gatherContext(
      request({ historyBudget: 150 }),
      contextPorts({ threads: thread.reader, names: knownNames(directory).names }),
      new RecordingLogger(),
    );
    // Assess
    expect(context.messages.map((m) => m.content)).toEqual([
      SYSTEM.content,
      `Alice: ${'d'.repeat(40)}`,
      `Alice: ${'e'.repeat(40)}`,
      'The question Carol asks you now:\nWhat did they decide?',
    ]);
    // Only what was sent is remembered: the dropped messages can be read again next time.
    expect(context.remember.map((t) => t.ts)).toEqual(['1700000000.000203', '1700000000.000204', job.ts]);
  });
});

describe('gatherContext: attached files', () => {
  const file = (id: string, name: string, mimetype: string, size = 100) => ({
    id,
    name,
    mimetype,
    size,
    urlPrivate: `https://files.slack.com/files-pri/T0LOCAL-${id}/${name}`,
  });
  const notes = file('F1', 'notes.txt', 'text/plain');
  const diagram = file('F2', 'diagram.png', 'image/png');
  const spec = file('F3', 'spec.pdf', 'application/pdf');
  const lost = file('F4', 'lost.png', 'image/png');
  const topLevel = answerJob({ threadTs: ROOT, ts: ROOT, files: [notes, diagram, spec, lost] });

  it('inlines text, sends images as pictures, names what it could not read, and remembers images by name', async () => {
    // Prepare
    const store = memoryFiles({
      [notes.urlPrivate]: Buffer.from('Deploy at 6 pm.\n'),
      [diagram.urlPrivate]: PNG_BYTES,
      [lost.urlPrivate]: new AttachmentError('timeout', 'no time left to download'),
    });
    const logger = new RecordingLogger();
    // Act
    const context = await gatherContext(
      request({ job: topLevel, question: 'Summarise these.' }),
      contextPorts({ files: store.downloader }),
      logger,
    );
    // Assess
    expect(store.downloads).not.toContain(spec.urlPrivate);
    const asked = context.messages.at(-1)!.content;
    expect(Array.isArray(asked)).toBe(true);
    const [text, ...images] = asked as Exclude<typeof asked, string>;
    expect(text).toEqual({ type: 'text', text: expect.stringContaining('Summarise these.') });
    const question = (text as { text: string }).text;
    expect(question).toContain('Attached file notes.txt:\n```\nDeploy at 6 pm.\n```');
    expect(question).toContain('(A PDF named spec.pdf (application/pdf) was attached but not read.)');
    expect(question).toContain('(An image named lost.png was attached but could not be read.)');
    expect(images).toEqual([
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BYTES.toString('base64')}` } },
    ]);
    expect(context.withoutImages?.at(-1)?.content).toContain(
      'An image named diagram.png was attached but could not be shown to you.',
    );
    expect(context.remember.at(-1)?.content).toContain('[image: diagram.png] [image: lost.png]');
    expect(logger.at('WARN')).toContainEqual(expect.objectContaining({ fileId: 'F4', problem: 'timeout' }));
  });

  it('names images without downloading them when image input is off', async () => {
    // Prepare
    const store = memoryFiles({ [diagram.urlPrivate]: PNG_BYTES });
    const job = answerJob({ threadTs: ROOT, ts: ROOT, files: [diagram] });
    // Act
    const context = await gatherContext(
      request({ job, question: 'What is this?' }),
      contextPorts({ files: store.downloader, imageInput: 'off' }),
      new RecordingLogger(),
    );
    // Assess
    expect(store.downloads).toEqual([]);
    expect(context.withoutImages).toBeUndefined();
    expect(context.messages.at(-1)?.content).toBe(
      'What is this?\n\n(An image named diagram.png was attached but not shown to you (image input is off).)',
    );
  });
});
