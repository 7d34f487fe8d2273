import type { Logger } from '@aws-lambda-powertools/logger';
import type { ContextPorts } from '../context/gather-context';
import type { Governance } from '../governance/governance';
import type { ChatModel } from '../llm/openai-chat';
import type { ReplyOpener } from '../reply/open-reply';
import type { AssistantThreads } from '../slack/assistant-threads';
import type { EventClaims } from '../store/event-claims';
import type { ThreadHistory } from '../store/thread-history';
import type { ToolPorts } from '../tools/tools-for-answer';

/** The ports and settings `answerMention` works with. */
export interface AnswerDeps {
  replies: ReplyOpener;
  llm: ChatModel;
  history: ThreadHistory;
  claims: EventClaims;
  /** Reads the thread, names and attached files for the prompt (lib/context). */
  context: ContextPorts;
  /** Titles of assistant threads; absent: no titles. */
  assistant?: AssistantThreads | undefined;
  logger: Logger;
  /** Rollout guards: allowlist, daily quota, per-channel settings, usage counting. */
  governance: Governance;
  /**
   * After Slack refused the token: whether the workspace still has an installation. One that was
   * uninstalled completes the job quietly; absent (one workspace): always installed.
   */
  stillInstalled?: () => Promise<boolean>;
  /** What the model's tools are built from (lib/tools); absent: no tools. */
  tools?: ToolPorts | undefined;
  settings: {
    systemPrompt: string;
    historyTokenBudget: number;
    botUserId?: string | undefined;
    /** Wait before a second try of the model; absent: `MODEL_CALL_BUDGET.backoffMs` (tests wait less). */
    llmBackoffMs?: number;
  };
  delivery: {
    /** SQS `ApproximateReceiveCount` of this record. */
    receiveCount: number;
    maxReceiveCount: number;
    /** Seconds before the next receive when this one asks to be retried. */
    retryDelaySeconds: number;
    /** Time left in the invocation. */
    remainingMs: () => number;
    /** SQS `ApproximateFirstReceiveTimestamp` (epoch ms), for when the claim holds no time. */
    firstReceivedAt?: number | undefined;
  };
  sleep?: (ms: number) => Promise<void>;
}

/** How one job ended. */
export type AnswerOutcome = 'answered' | 'duplicate' | 'failed' | 'refused' | 'uninstalled';
