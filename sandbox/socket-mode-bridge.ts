import { LogLevel, SocketModeClient } from '@slack/socket-mode';
import { BadInputError } from '../lib/errors';
import { recordInteraction } from '../lib/ingress/receive-interaction';
import type { Logger } from '../lib/logger';
import type { JobQueue } from '../lib/queue/sqs-job-queue';
import { classifySlackEvent, type SlackEventDecision } from '../lib/slack/classify-event';

/** What happened to one envelope. */
export interface BridgedEvent {
  envelopeId: string;
  /**
   * `answer` (queued), `feedback` (a feedback click, queued to be counted), `ignore`, `rejected` (malformed),
   * `unqueued` (the queue failed: not acked).
   */
  outcome: 'answer' | 'feedback' | 'ignore' | 'rejected' | 'unqueued';
  eventId?: string | undefined;
  /** Why it was ignored or rejected. */
  reason?: string;
  /** The event's type, e.g. `app_mention`. */
  eventType?: string;
  channel?: string;
  threadTs?: string;
  retryAttempt?: number;
}

/** Options of {@link startSocketModeBridge}. */
export interface SocketModeBridgeOptions {
  /** The app-level token (`xapp-…`, scope `connections:write`). */
  appToken: string;
  /** Web API base URL ending in `/api/`; default Slack's. */
  slackApiUrl?: string | undefined;
  /** Where answerable events go: the same queue adapter the ingress uses. */
  queue: JobQueue;
  botUserId?: string | undefined;
  logger: Logger;
  onEvent?: (event: BridgedEvent) => void;
}

/** What `@slack/socket-mode` emits as `slack_event` (SocketModeClient.onWebSocketMessage). */
interface Envelope {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  type: string;
  envelope_id: string;
  body: unknown;
  retry_num?: number;
}

/** A connected bridge. */
export interface SocketModeBridge {
  client: SocketModeClient;
  /** Disconnects from Slack. */
  stop(): Promise<void>;
}

/**
 * Receives Events API envelopes over Socket Mode (https://docs.slack.dev/apis/events-api/using-socket-mode)
 * and hands them to the ingress's own classification (`classifySlackEvent`) and queue
 * (`JobQueue`): the same decisions, the same jobs. There is no signature to check: the socket
 * itself is authenticated by the app-level token. An envelope is acknowledged once its job is
 * queued (or it is deliberately ignored), as the ingress answers 2xx; if the queue fails it is not
 * acknowledged, so Slack delivers it again.
 * @throws from `start()` when Slack refuses the token or cannot be reached.
 */
export async function startSocketModeBridge(options: SocketModeBridgeOptions): Promise<SocketModeBridge> {
  const { logger, queue } = options;
  const client = new SocketModeClient({
    appToken: options.appToken,
    logLevel: LogLevel.ERROR,
    clientOptions: options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {},
  });

  const handle = async (args: Envelope) => {
    const base = {
      envelopeId: args.envelope_id,
      ...(args.retry_num ? { retryAttempt: args.retry_num } : {}),
    };
    const report = (event: BridgedEvent) => options.onEvent?.(event);
    const ack = () =>
      args
        .ack()
        .catch((error: unknown) =>
          logger.warn('could not acknowledge an envelope', { error: error as Error }),
        );
    if (args.type === 'interactive') {
      // The same code path as the ingress's interactivity requests, without the form encoding:
      // a Socket Mode envelope carries the payload as JSON. Acknowledged whatever it holds:
      // sending a malformed one again would not fix it.
      await ack();
      try {
        const outcome = recordInteraction(args.body, logger, Date.now());
        if (outcome.kind === 'ignore') return report({ ...base, outcome: 'ignore', reason: outcome.reason });
        const { job } = outcome;
        // Counted by the worker, as the ingress's votes are. Already acknowledged: on failure the
        // click is lost, as Slack does not send an interaction again.
        await queue.enqueue(job).catch((error: unknown) => {
          logger.error('feedback vote not queued', { error: error as Error });
        });
        return report({
          ...base,
          outcome: 'feedback',
          eventType: 'feedback',
          channel: job.channel,
          threadTs: job.threadTs ?? job.messageTs,
          reason: job.value,
        });
      } catch (error) {
        if (!(error instanceof BadInputError)) throw error;
        logger.warn('rejected interaction', {
          reason: 'bad input',
          field: error.field,
          detail: error.message,
        });
        return report({ ...base, outcome: 'rejected', reason: error.message });
      }
    }
    if (args.type !== 'events_api') {
      // Slash commands are not this bot's: acknowledge so Slack does not resend.
      await ack();
      return report({ ...base, outcome: 'ignore', reason: `envelope type ${args.type}` });
    }
    let decision: SlackEventDecision;
    try {
      decision = classifySlackEvent(args.body, { botUserId: options.botUserId });
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
      logger.warn('rejected event', { reason: 'bad input', field: error.field, detail: error.message });
      await ack();
      return report({ ...base, outcome: 'rejected', reason: error.message });
    }
    if (decision.kind === 'challenge' || decision.kind === 'ignore' || decision.kind === 'installation') {
      await ack();
      // Socket Mode runs one workspace: an uninstall or revoked token has no installation to remove.
      const reason =
        decision.kind === 'ignore'
          ? decision.reason
          : decision.kind === 'installation'
            ? decision.change.type
            : 'url_verification';
      const eventId =
        decision.kind === 'ignore'
          ? decision.eventId
          : decision.kind === 'installation'
            ? decision.change.eventId
            : undefined;
      logger.info('ignored event', { eventId, reason });
      return report({ ...base, outcome: 'ignore', reason, eventId });
    }
    const { job } = decision;
    const where = {
      eventId: job.eventId,
      channel: job.channel,
      threadTs: job.threadTs,
      eventType: job.kind === 'prompts' ? 'assistant thread opened' : job.isDm ? 'message.im' : 'app_mention',
    };
    try {
      await queue.enqueue(job);
    } catch (error) {
      logger.error('event not queued; Slack will deliver it again', {
        eventId: job.eventId,
        error: error as Error,
      });
      return report({ ...base, ...where, outcome: 'unqueued', reason: (error as Error).message });
    }
    await ack();
    logger.info('queued event', { eventId: job.eventId, channel: job.channel, thread: job.threadTs });
    report({ ...base, ...where, outcome: 'answer' });
  };
  client.on('slack_event', (args: Envelope) => {
    handle(args).catch((error: unknown) => {
      // Not acknowledged: Slack delivers the envelope again.
      logger.error('could not handle an envelope', { envelopeId: args.envelope_id, error: error as Error });
    });
  });

  await client.start();
  return {
    client,
    async stop() {
      await client.disconnect();
    },
  };
}
