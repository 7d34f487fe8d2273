import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod';
import { listen } from './listen';

/** One `tools/call` the peer received. */
export interface McpCall {
  tool: string;
  arguments: Record<string, unknown>;
  /** The `Authorization` header it came with. */
  authorization: string | undefined;
  /** Set when the client went away before the answer (it aborted the call). */
  aborted?: boolean;
}

/** A local MCP server, see {@link startMcpPeer}. */
export interface McpPeer {
  /** `http://127.0.0.1:PORT/mcp`: an `MCP_SERVERS` url. */
  readonly url: string;
  readonly calls: readonly McpCall[];
  /** `tools/list` requests served. */
  readonly lists: number;
  /** While on, every request answers 503 (an unreachable server). */
  down(on: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

/** Open incidents the peer's `incident_status` knows, by service. */
const INCIDENTS: Record<string, string> = {
  orders:
    'INC-2041 (SEV-2, open since 09:10 UTC): orders queue backing up; consumers restarted, DLQ redrive in progress.',
};

/**
 * An MCP server built with the official SDK (`McpServer` over `StreamableHTTPServerTransport`,
 * stateless: a server per request) on 127.0.0.1, for tests and `npm start`. Tools:
 * `incident_status({service})` answers from {@link INCIDENTS}; `slow_report({topic})` never answers
 * (until the client gives up: its abort is recorded).
 */
export async function startMcpPeer(): Promise<McpPeer> {
  const calls: McpCall[] = [];
  let lists = 0;
  let isDown = false;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (isDown) {
      res.writeHead(503).end();
      return;
    }
    const authorization = req.headers.authorization;
    const server = new McpServer({ name: 'local-incidents', version: '1.0.0' });
    const record = (tool: string, args: Record<string, unknown>) => {
      const call: McpCall = { tool, arguments: args, authorization };
      calls.push(call);
      res.on('close', () => {
        if (!res.writableFinished) call.aborted = true;
      });
      return call;
    };
    server.registerTool(
      'incident_status',
      { description: 'Open incidents of a service, by service name.', inputSchema: { service: z.string() } },
      async ({ service }) => {
        record('incident_status', { service });
        const key = service.toLowerCase().trim();
        return { content: [{ type: 'text', text: INCIDENTS[key] ?? `No open incident for ${service}.` }] };
      },
    );
    server.registerTool(
      'slow_report',
      { description: 'A report that takes very long.', inputSchema: { topic: z.string() } },
      async ({ topic }) => {
        record('slow_report', { topic });
        return new Promise(() => undefined);
      },
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    const body = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      req.on('end', () => resolve(text));
    });
    const parsed = body ? (JSON.parse(body) as { method?: string }) : undefined;
    if (parsed?.method === 'tools/list') lists++;
    await transport.handleRequest(req, res, parsed);
  };
  const server = await listen((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  return {
    url: `${server.origin}/mcp`,
    calls,
    get lists() {
      return lists;
    },
    down(on) {
      isDown = on;
    },
    reset() {
      calls.length = 0;
      lists = 0;
      isDown = false;
    },
    close: () => server.close(),
  };
}
