import type { Logger } from '@aws-lambda-powertools/logger';
import type { WebClient } from '@slack/web-api';
import type { WorkerConfig } from '../config';
import type { UserNames } from '../context/user-names';
import type { ChannelSettings } from '../governance/channel-settings';
import type { ChatMessage, TokenCounter } from '../llm/prompt';
import type { AnswerJob } from '../queue/job';
import type { RememberedRefusals } from '../store/refusals';
import type { McpToolSource } from './mcp-tools';
import { linksNamedByPeople, readLinkTool } from './read-link';
import type { Resolver } from './safe-fetch';
import { searchSlackTool } from './search-slack';
import type { Tool } from './tool';

/** What the tools of an answer are built from; made once per instance (lib/worker/worker-deps.ts). */
export interface ToolPorts {
  settings: WorkerConfig['tools'];
  /** The Slack client of a job (its workspace's bot token): every Slack-calling tool uses it. */
  slack: (job: AnswerJob) => WebClient;
  names: UserNames;
  resolve: Resolver;
  mcp?: McpToolSource | undefined;
  /** Models whose API refused `tools`; absent: always offered. */
  availability?: RememberedRefusals | undefined;
  countTokens: () => Promise<TokenCounter>;
  /** Largest tool result the model gets, in tokens. */
  resultTokens: number;
  /** The deployment's model (a channel may override it). */
  model: string;
  /** Address policy for read_link; tests change what counts as public. */
  isBlocked?: (address: string) => boolean;
}

/**
 * The tools one answer may use: the enabled built-ins (`AGENT_TOOLS`) and the MCP servers' tools,
 * narrowed by the channel's settings (`tools`), none with `AGENT_TOOLS=off` or when the model's API
 * refused tools lately. `search_slack` only when the event carried the asker's `action_token`.
 * Built per answer from the job's own Slack client: cheap (no I/O but the cached MCP lists).
 * Without ports (a worker built without tools), none.
 */
export async function toolsForAnswer(
  job: AnswerJob,
  messages: readonly ChatMessage[],
  channel: ChannelSettings | undefined,
  ports: ToolPorts | undefined,
  logger: Logger,
): Promise<Tool[]> {
  if (!ports) return [];
  const { settings } = ports;
  if (settings.off || channel?.tools?.length === 0) return [];
  const model = channel?.model ?? ports.model;
  const refused = await ports.availability?.isOff(model).catch(() => false);
  if (refused) {
    logger.info('answering without tools: the model API refused them lately', { model });
    return [];
  }
  const slack = ports.slack(job);
  const tools: Tool[] = [];
  if (settings.enabled.includes('search_slack') && job.actionToken) {
    tools.push(
      searchSlackTool(
        slack,
        { teamId: job.teamId, actionToken: job.actionToken, answerIsPrivate: job.isDm },
        ports.names,
      ),
    );
  }
  if (settings.enabled.includes('read_link')) {
    tools.push(
      readLinkTool(
        slack,
        { teamId: job.teamId, channel: job.channel, named: linksNamedByPeople(messages) },
        {
          names: ports.names,
          resolve: ports.resolve,
          allowHosts: new Set(settings.readLinkAllowHosts),
          isBlocked: ports.isBlocked,
        },
      ),
    );
  }
  if (ports.mcp) tools.push(...(await ports.mcp.tools(logger)));
  const only = channel?.tools;
  return only ? tools.filter((t) => only.includes(t.name) || only.includes(t.name.split('__')[0]!)) : tools;
}
