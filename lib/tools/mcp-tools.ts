import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServerSetting } from '../config-variables';
import type { Logger } from '../logger';
import { failed, type Tool, type ToolOutcome } from './tool';

/** `tools/list` answers are kept this long per instance: a server's new tools arrive within it. */
const MCP_LIST_TTL_MS = 5 * 60_000;
/** An unreachable server is not asked again for this long (its tools are left out meanwhile). */
const MCP_RETRY_AFTER_MS = 60_000;
/** `tools/list` may take this long before an answer starts without that server's tools. */
const MCP_LIST_TIMEOUT_MS = 3_000;

interface Listed {
  at: number;
  tools: Array<{ name: string; description?: string; inputSchema: Record<string, unknown> }>;
}

/** The MCP servers' tools for one answer; the lists are cached per instance. */
export interface McpToolSource {
  tools(logger: Logger): Promise<Tool[]>;
}

/**
 * The tools of the `MCP_SERVERS`, through the official SDK's client over streamable HTTP
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http):
 * `tools/list` once per server per {@link MCP_LIST_TTL_MS} and instance; each tool offered as
 * `<server>__<tool>` (only those in the server's `tools` when given); `tools/call` bounded by the
 * call's signal (Stop, timeout) on a connection of its own; the text content is the result (the
 * loop cuts it to size). A server that cannot be listed leaves its tools out and WARNs once per
 * instance. A header value `ssm:<name>` is that SecureString, read from `parameters` and cached
 * for `maxAgeSeconds` like the secrets.
 */
export function mcpToolSource(
  servers: readonly McpServerSetting[],
  options: { parameters: () => SSMProvider; maxAgeSeconds: number },
): McpToolSource {
  const lists = new Map<string, Listed>();
  const down = new Map<string, number>();
  const warned = new Set<string>();

  const connect = async (server: McpServerSetting, signal: AbortSignal) => {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(server.headers ?? {}))
      headers[key] = value.startsWith('ssm:')
        ? ((await options.parameters().get(value.slice(4), {
            decrypt: true,
            maxAge: options.maxAgeSeconds,
          })) ?? '')
        : value;
    // Loaded on first use: most deployments configure no MCP server, and the SDK (with its JSON
    // schema validator) costs every cold start otherwise. `require`, as in lib/queue/sqs-retry-scheduler.ts.
    const { Client: McpClient } =
      require('@modelcontextprotocol/sdk/client/index.js') as typeof import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } =
      require('@modelcontextprotocol/sdk/client/streamableHttp.js') as typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const client = new McpClient({ name: 'slack-gpt-bot', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } });
    await client.connect(transport, { signal });
    return client;
  };

  const list = async (server: McpServerSetting, logger: Logger): Promise<Listed | undefined> => {
    const cached = lists.get(server.name);
    if (cached && Date.now() - cached.at < MCP_LIST_TTL_MS) return cached;
    if ((down.get(server.name) ?? 0) > Date.now()) return undefined;
    const signal = AbortSignal.timeout(MCP_LIST_TIMEOUT_MS);
    let client: Client | undefined;
    try {
      client = await connect(server, signal);
      const { tools } = await client.listTools(undefined, { signal });
      const listed: Listed = { at: Date.now(), tools: tools as Listed['tools'] };
      lists.set(server.name, listed);
      warned.delete(server.name);
      return listed;
    } catch (error) {
      down.set(server.name, Date.now() + MCP_RETRY_AFTER_MS);
      if (!warned.has(server.name)) {
        warned.add(server.name);
        logger.warn('an MCP server could not be listed; answering without its tools', {
          server: server.name,
          errorName: (error as Error)?.name,
        });
      }
      return cached;
    } finally {
      await client?.close().catch(() => undefined);
    }
  };

  const asTool = (server: McpServerSetting, tool: Listed['tools'][number]): Tool => {
    const name = `${server.name}__${tool.name}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
    return {
      name,
      description: `${(tool.description ?? tool.name).slice(0, 1000)} (from the ${server.name} server)`,
      parameters: { type: 'object', properties: {}, ...tool.inputSchema },
      title: () => `Asking ${server.name}: ${tool.name}`,
      trace: () => `asked ${server.name}: ${tool.name}`,
      async run(args, context): Promise<ToolOutcome> {
        let client: Client | undefined;
        try {
          client = await connect(server, context.signal);
          const result = await client.callTool({ name: tool.name, arguments: args }, undefined, {
            signal: context.signal,
            // The SDK's own request timeout, past ours: the call's signal ends it first.
            timeout: Math.max(1, context.deadline - Date.now()) + 1_000,
          });
          const text = ((result.content as Array<{ type: string; text?: string }> | undefined) ?? [])
            .flatMap((part) => (part.type === 'text' && part.text ? [part.text] : []))
            .join('\n');
          if (result.isError)
            return failed(`The tool reported an error: ${text}`, 'The tool reported an error');
          return { ok: true, content: text || '(no text)', output: `${text.length} characters` };
        } catch (error) {
          if (context.signal.aborted) throw error;
          context.logger.warn('an MCP tool call failed', {
            server: server.name,
            errorName: (error as Error)?.name,
          });
          return failed('The tool could not be reached. Answer without it.', 'Could not be reached');
        } finally {
          await client?.close().catch(() => undefined);
        }
      },
    };
  };

  return {
    async tools(logger) {
      const found = await Promise.all(
        servers.map(async (s) => ({ server: s, listed: await list(s, logger) })),
      );
      return found.flatMap(({ server, listed }) =>
        (listed?.tools ?? [])
          .filter((t) => !server.tools || server.tools.includes(t.name))
          .map((t) => asTool(server, t)),
      );
    },
  };
}
