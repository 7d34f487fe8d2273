import type { ContextPorts } from '../../lib/context/gather-context';
import { LlmError } from '../../lib/errors';
import type { Admission } from '../../lib/governance/governance';
import type { AnswerJob } from '../../lib/queue/job';
import type { AnswerDeps } from '../../lib/worker/answer-deps';
import { contextPorts } from './context-fakes';
import {
  answerJob,
  type fakeAssistant,
  fakeGovernance,
  fakeReplies,
  type ModelTurn,
  type ReplyFailures,
  scriptedModel,
} from './fakes';
import { RecordingLogger } from './recording-logger';
import { memoryClaims, memoryHistory } from './store-fakes';

/**
 * One delivery of a question to the answer use case (lib/worker/answer-mention.ts), every port an
 * in-memory fake: for the unit tests of the story (test/unit/answer-mention*.test.ts).
 */

export const SYSTEM_PROMPT = 'You are a helpful assistant.';
export const QUESTION = 'What is the capital of France?';
export const ANSWER = 'Paris is the capital of France.';
export const USAGE = { promptTokens: 30, completionTokens: 7 };
/** The question, mentioning the bot at the top of a channel. */
export const job = answerJob({ text: `<@UBOT> ${QUESTION}` });
/** The thread a job's answer is remembered under. */
export const threadOf = (j: AnswerJob) => ({ teamId: j.teamId, channel: j.channel, threadTs: j.threadTs });

/**
 * Everything one delivery of a question meets: the model plays `turns`; the stores may be shared
 * with an earlier delivery (a redelivery sees what the first one left). The invocation always has
 * a minute left, and the backoff between model tries is recorded in `sleeps`, not waited.
 */
export function answerWorld(
  turns: ModelTurn[],
  options: {
    claims?: ReturnType<typeof memoryClaims>;
    history?: ReturnType<typeof memoryHistory>;
    replyFailures?: ReplyFailures;
    admission?: Admission;
    assistant?: ReturnType<typeof fakeAssistant>;
    receiveCount?: number;
    stillInstalled?: boolean;
    context?: Partial<ContextPorts>;
  } = {},
) {
  const claims = options.claims ?? memoryClaims();
  const history = options.history ?? memoryHistory();
  const model = scriptedModel(...turns);
  const replies = fakeReplies(options.replyFailures);
  const governance = fakeGovernance(options.admission);
  const logger = new RecordingLogger();
  const sleeps: number[] = [];
  const deps: AnswerDeps = {
    replies: replies.opener,
    llm: model.model,
    history: history.history,
    claims: claims.claims,
    context: contextPorts(options.context),
    assistant: options.assistant?.assistant,
    logger,
    governance: governance.governance,
    ...(options.stillInstalled === undefined ? {} : { stillInstalled: async () => options.stillInstalled! }),
    settings: { systemPrompt: SYSTEM_PROMPT, historyTokenBudget: 3_000, botUserId: 'UBOT' },
    delivery: {
      receiveCount: options.receiveCount ?? 1,
      maxReceiveCount: 3,
      retryDelaySeconds: 10,
      remainingMs: () => 60_000,
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return { deps, claims, history, model, replies, governance, logger, sleeps };
}

/** What `promise` rejected with (fails the test when it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}

/** A model failure worth another try, after part of the answer came. */
export const overloaded = () =>
  new LlmError('the model answered 503', { retryable: true, status: 503, partialText: 'Paris is' });
