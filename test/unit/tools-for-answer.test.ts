import { WebClient } from '@slack/web-api';
import { createLogger } from '../../lib/logger';
import type { Tool } from '../../lib/tools/tool';
import { type ToolPorts, toolsForAnswer } from '../../lib/tools/tools-for-answer';
import { answerJob } from '../support/fakes';

// Which tools one answer is offered: the deployment's choice (AGENT_TOOLS, MCP_SERVERS) narrowed by
// the channel's settings. No tool runs here, so no Slack or MCP call is made.

const logger = createLogger('tools-for-answer-test', { logLevel: 'SILENT' });

/** An MCP tool as the MCP source lists it: `<server>__<tool>`. */
const mcpTool = (name: string): Tool => ({
  name,
  description: name,
  parameters: { type: 'object', properties: {} },
  title: () => name,
  trace: () => name,
  run: async () => ({ ok: true, content: '', output: '' }),
});

function ports(overrides: Partial<ToolPorts['settings']> = {}): ToolPorts {
  const client = new WebClient('xoxb-not-used', { slackApiUrl: 'http://127.0.0.1:1/api/' });
  return {
    settings: {
      off: false,
      enabled: ['search_slack', 'read_link'],
      maxSteps: 4,
      mcpServers: [],
      readLinkAllowHosts: [],
      ...overrides,
    },
    slack: () => client,
    names: { names: async () => new Map() },
    resolve: async () => [],
    mcp: {
      tools: async () => [
        mcpTool('incidents__incident_status'),
        mcpTool('incidents__slow_report'),
        mcpTool('wiki__search'),
      ],
    },
    countTokens: async () => (text: string) => text.length,
    resultTokens: 1_000,
    model: 'gpt-4o-mini',
  };
}

const job = answerJob({ actionToken: 'action-token' });
const names = (tools: Tool[]) => tools.map((t) => t.name).sort();

describe('the tools an answer is offered', () => {
  it('are every enabled built-in and every MCP tool where the channel says nothing', async () => {
    // Act
    const tools = await toolsForAnswer(job, [], undefined, ports(), logger);
    // Assess
    expect(names(tools)).toEqual([
      'incidents__incident_status',
      'incidents__slow_report',
      'read_link',
      'search_slack',
      'wiki__search',
    ]);
  });

  it('are narrowed by the channel to built-in names, whole MCP servers and single MCP tools', async () => {
    // Act
    const tools = await toolsForAnswer(
      job,
      [],
      { tools: ['read_link', 'wiki', 'incidents__incident_status'] },
      ports(),
      logger,
    );
    // Assess
    expect(names(tools)).toEqual(['incidents__incident_status', 'read_link', 'wiki__search']);
  });

  it('are none in a channel whose settings list no tools, and none with AGENT_TOOLS=off', async () => {
    // Act
    const none = await toolsForAnswer(job, [], { tools: [] }, ports(), logger);
    const off = await toolsForAnswer(job, [], undefined, ports({ off: true }), logger);
    // Assess
    expect(none).toEqual([]);
    expect(off).toEqual([]);
  });

  it('never include a tool the deployment did not enable, whatever the channel lists', async () => {
    // Act
    const tools = await toolsForAnswer(
      job,
      [],
      { tools: ['search_slack', 'read_link'] },
      ports({ enabled: ['read_link'] }),
      logger,
    );
    // Assess
    expect(names(tools)).toEqual(['read_link']);
  });
});
