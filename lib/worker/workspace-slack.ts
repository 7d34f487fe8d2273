import type { WebClient } from '@slack/web-api';
import type { InstallationTokens } from '../install/installation-tokens';
import type { Logger } from '../logger';
import type { AnswerJob, PromptsJob } from '../queue/job';
import { call, slackErrorCode } from '../slack/web-api-call';
import type { AnswerDeps } from './answer-deps';

/** A job that writes to Slack: an answer, or suggested prompts (a vote only counts). */
type SlackJob = AnswerJob | PromptsJob;

/**
 * The Slack-facing ports of one job, every one of them on one `WebClient` holding the token of the
 * job's workspace: the reply (posts, edits, streams, the thread look-up), suggested prompts and
 * titles, the thread reader, user names, file downloads, ephemeral notes and quota replies.
 */
export interface WorkspaceSlack extends Pick<AnswerDeps, 'replies' | 'context' | 'governance'> {
  assistant: NonNullable<AnswerDeps['assistant']>;
  /** The client itself, for ports that take one per job (tools). */
  client: WebClient;
  /** The bot's own user id in this workspace, when known. */
  botUserId: string | undefined;
}

/** Where each job's {@link WorkspaceSlack} comes from. */
export interface WorkspaceResolver {
  /**
   * The job's ports; undefined when its workspace has no installation (uninstalled, or never
   * installed): the job completes quietly.
   */
  forJob(job: SlackJob, logger: Logger): Promise<WorkspaceSlack | undefined>;
  /** After Slack refused the job's token: whether its workspace still has an installation (read anew). */
  stillInstalled(job: SlackJob, logger: Logger): Promise<boolean>;
}

/**
 * One workspace (`SLACK_BOT_TOKEN`): the same ports for every job. The bot's user id is the
 * configured `SLACK_BOT_USER_ID`, else the event's (`authorizations`), else asked of Slack once per
 * instance with `auth.test` (https://docs.slack.dev/reference/methods/auth.test): without it,
 * other apps' messages in a thread would be taken for the bot's own.
 */
export function singleWorkspace(
  ports: Omit<WorkspaceSlack, 'botUserId'>,
  configured: string | undefined,
  logger: Logger,
): WorkspaceResolver {
  const ask = botIdentity(ports.client, logger);
  return {
    async forJob(job) {
      const botUserId = configured ?? (job.kind === 'prompts' ? undefined : (job.botUserId ?? (await ask())));
      return { ...ports, botUserId };
    },
    stillInstalled: async () => true,
  };
}

/**
 * `auth.test`, asked once per instance and remembered; a failure is not remembered (the next job
 * asks again) and costs only the id: the answer goes on, as it did before the id was looked up.
 */
function botIdentity(client: WebClient, logger: Logger): () => Promise<string | undefined> {
  let known: Promise<string | undefined> | undefined;
  return () => {
    known ??= call('auth.test', () => client.auth.test()).then(
      (r) => r.user_id,
      (error: Error) => {
        known = undefined;
        logger.warn('auth.test failed; the bot’s own messages are told apart by bot_id only', {
          slackError: slackErrorCode(error),
        });
        return undefined;
      },
    );
    return known;
  };
}

/** At most this many tokens' clients are kept per instance; the oldest goes first. */
const MAX_CLIENTS = 50;

/**
 * Many workspaces (distribution mode): each job's installation, by its team or enterprise, gives
 * the token, and one set of ports per token is built and kept (a `WebClient` per installation).
 */
export function installedWorkspaces(
  tokens: InstallationTokens,
  portsFor: (token: string) => Omit<WorkspaceSlack, 'botUserId'>,
): WorkspaceResolver {
  const built = new Map<string, Omit<WorkspaceSlack, 'botUserId'>>();
  const query = (job: SlackJob) => ({
    teamId: job.teamId,
    enterpriseId: job.enterpriseId,
    isEnterpriseInstall: job.isEnterpriseInstall,
  });
  return {
    async forJob(job, logger) {
      const installation = await tokens.resolve(query(job), logger);
      if (!installation) return undefined;
      let ports = built.get(installation.botToken);
      if (!ports) {
        ports = portsFor(installation.botToken);
        built.set(installation.botToken, ports);
        if (built.size > MAX_CLIENTS) built.delete(built.keys().next().value!);
      }
      return { ...ports, botUserId: installation.botUserId };
    },
    async stillInstalled(job, logger) {
      tokens.forget(query(job));
      return (await tokens.resolve(query(job), logger).catch(() => 'unknown')) !== undefined;
    },
  };
}
