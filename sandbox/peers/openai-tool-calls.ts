import type { ServerResponse } from 'node:http';
import { sendJson } from './listen';

/**
 * How the local OpenAI peer uses tools, deterministically, so tests and `npm start` can predict
 * every call: on a request that offers `tools` (and no `tool_choice: "none"`), before any tool
 * result came back for the question, it calls
 * - `search_slack({query: X})` when the question says "search Slack for X",
 * - `read_link({url})` for every http(s) URL in the question (in parallel),
 * - `<server>__<tool>({<first string parameter>: X})` when the question says "ask <server> about X",
 * each only if offered. Once results came back, it answers by quoting what each tool returned.
 */

/** A message as the peer reads it. */
export interface PeerMessage {
  role: string;
  content?: string | Array<{ type: string; text?: string }> | null;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** A function as the request offered it. */
export interface PeerTool {
  type?: string;
  function: {
    name: string;
    description?: string;
    parameters?: { properties?: Record<string, { type?: string }>; required?: string[] };
  };
}

/** A call the peer makes. */
export interface PlannedCall {
  name: string;
  arguments: Record<string, unknown>;
}

const textOf = (content: PeerMessage['content']): string =>
  typeof content === 'string' ? content : (content ?? []).map((p) => p.text ?? '').join('');

/** The messages after the last person's message: tool calls and results of this question. */
function sinceQuestion(messages: PeerMessage[]): PeerMessage[] {
  const last = messages.findLastIndex((m) => m.role === 'user');
  return messages.slice(last + 1);
}

/** The default plan: the calls the question asks for, once. */
export function plannedCalls(messages: PeerMessage[], tools: PeerTool[]): PlannedCall[] {
  if (sinceQuestion(messages).some((m) => m.role === 'tool')) return [];
  const offered = new Set(tools.map((t) => t.function.name));
  const question = textOf(messages.findLast((m) => m.role === 'user')?.content);
  const calls: PlannedCall[] = [];
  const search = /search slack for\s+[“"]?([^”"\n?.!]+)[”"]?/i.exec(question);
  if (search && offered.has('search_slack'))
    calls.push({ name: 'search_slack', arguments: { query: search[1]!.trim() } });
  if (offered.has('read_link')) {
    for (const match of question.matchAll(/https?:\/\/[^\s<>|"]+/g)) {
      calls.push({ name: 'read_link', arguments: { url: match[0].replace(/[.,;:!?)]+$/, '') } });
    }
  }
  const ask = /ask\s+([\w-]+)\s+about\s+([^\n?.!]+)/i.exec(question);
  if (ask) {
    const tool = tools.find((t) => t.function.name.startsWith(`${ask[1]}__`));
    const params = tool?.function.parameters;
    const key = params?.required?.[0] ?? Object.keys(params?.properties ?? {})[0];
    if (tool && key) calls.push({ name: tool.function.name, arguments: { [key]: ask[2]!.trim() } });
  }
  return calls;
}

/** The text between a result's untrusted-data markers, or all of it. */
function resultBody(content: string): string {
  const match = /^<<<UNTRUSTED [^\n]*>>>\n([\s\S]*)\n<<<END UNTRUSTED [^\n]*>>>$/.exec(content);
  return (match ? match[1]! : content).trim();
}

/**
 * The answer after tools: which tools returned what (each result's first lines), so the output
 * shows what reached the model. Undefined when no tool ran for this question.
 */
export function answerFromTools(messages: PeerMessage[]): string | undefined {
  const since = sinceQuestion(messages);
  const results = since.filter((m) => m.role === 'tool');
  if (results.length === 0) return undefined;
  const names = new Map<string, string>();
  for (const m of since) for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name);
  const parts = results.map((m) => {
    const body = resultBody(textOf(m.content)).split('\n').slice(0, 8).join('\n');
    return `**${names.get(m.tool_call_id ?? '') ?? 'a tool'}** returned:\n\n${body
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n')}`;
  });
  return [
    `I looked this up with ${results.length} tool call${results.length === 1 ? '' : 's'}.`,
    ...parts,
    'That is what I found.',
  ].join('\n\n');
}

const frame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const write = (res: ServerResponse, data: string) =>
  new Promise<boolean>((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve(false);
    res.write(data, (error) => resolve(!error));
  });

/**
 * Answers a chat completion with tool calls (`finish_reason: "tool_calls"`), as OpenAI streams
 * them: each call's id and name first, its arguments in two fragments
 * (https://platform.openai.com/docs/guides/function-calling#streaming); or as one JSON response.
 */
export async function answerWithToolCalls(
  res: ServerResponse,
  body: {
    model: string;
    messages: unknown[];
    stream?: boolean | null;
    stream_options?: { include_usage?: boolean } | null;
    served: number;
  },
  calls: PlannedCall[],
): Promise<void> {
  const { served } = body;
  const base = { id: `chatcmpl-local${served}`, created: Math.floor(Date.now() / 1000), model: body.model };
  const usage = {
    prompt_tokens: 10 * body.messages.length,
    completion_tokens: 5 * calls.length,
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({
    ...base,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, logprobs: null, finish_reason }],
  });
  if (!body.stream) {
    const tool_calls = calls.map((c, i) => ({
      id: `call_${served}_${i}`,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.arguments) },
    }));
    const message = { role: 'assistant', content: null, tool_calls, refusal: null };
    const choice = { index: 0, message, finish_reason: 'tool_calls' };
    return sendJson(res, 200, { ...base, object: 'chat.completion', choices: [choice], usage });
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
  await write(res, frame(chunk({ role: 'assistant', content: null })));
  for (const [index, call] of calls.entries()) {
    const args = JSON.stringify(call.arguments);
    const half = Math.ceil(args.length / 2);
    const start = {
      index,
      id: `call_${served}_${index}`,
      type: 'function',
      function: { name: call.name, arguments: '' },
    };
    await write(res, frame(chunk({ tool_calls: [start] })));
    await write(res, frame(chunk({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] })));
    await write(res, frame(chunk({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] })));
  }
  await write(res, frame(chunk({}, 'tool_calls')));
  if (body.stream_options?.include_usage) {
    await write(res, frame({ ...base, object: 'chat.completion.chunk', choices: [], usage }));
  }
  await write(res, 'data: [DONE]\n\n');
  res.end();
}
