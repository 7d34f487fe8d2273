import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { listen, readBody, sendJson } from './listen';
import { IMAGE_ERRORS, imageRefusal } from './openai-image-check';
import {
  answerFromTools,
  answerWithToolCalls,
  type PeerTool,
  type PlannedCall,
  plannedCalls,
} from './openai-tool-calls';
import { cancellableWaits } from './waits';

/** One message of a chat request; `content` is text or an array of parts. */
export interface ChatMessage {
  role: string;
  content?: string | Array<{ type: string; text?: string; image_url?: { url?: string } }> | null;
}

/** An image the request carried as a `data:` URL, decoded. */
export interface ReceivedImage {
  mimetype: string;
  bytes: Buffer;
}

/** The body of `POST /v1/chat/completions`, as far as the peer reads it (the recorded body has every field sent). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  temperature?: number | null;
  max_completion_tokens?: number | null;
  tools?: PeerTool[] | null;
  tool_choice?: string | null;
}

/**
 * A fault for the next chat completion(s): an HTTP error status (OpenAI-shaped JSON body,
 * `retry-after` on 429), an SSE error frame or a dropped socket after `n` content tokens, or
 * the answer cut off with `finish_reason: 'content_filter'` halfway through, or no usage chunk.
 */
export type OpenAIFault =
  | { status: 500 | 429 | 400 | 401; retryAfter?: number }
  | { errorFrameAfterTokens: number }
  | { dropAfterTokens: number }
  | { contentFilter: true }
  /** Behave like a compatible server that ignores `stream_options.include_usage`. */
  | { omitUsage: true };

/** One recorded chat completion request. */
export interface OpenAIRequest {
  body: ChatRequest;
  headers: IncomingHttpHeaders;
  /** `performance.now()` when the request arrived. */
  at: number;
  /** `performance.now()` when the first content chunk was written. */
  firstTokenAt?: number;
  /** `performance.now()` when the response ended (not set if the socket was dropped or closed). */
  finishedAt?: number;
  /** `performance.now()` when the client went away mid-stream (it aborted the request). */
  abortedAt?: number;
  /** Content tokens written to the stream. */
  tokensSent?: number;
  fault?: OpenAIFault;
  /** Images sent as `image_url` parts with `data:` URLs, in order, decoded to their bytes. */
  images: ReceivedImage[];
  /** The tool calls the peer answered with (see sandbox/peers/openai-tool-calls.ts). */
  toolCalls?: PlannedCall[];
}

/** Options of {@link startOpenAIPeer}. */
export interface OpenAIPeerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Wait before each content token (and, without `stream`, tokens × this before answering). Default 0. */
  tokenDelayMs?: number;
  /** Computes the answer; default {@link defaultAnswer}. */
  answer?: (request: ChatRequest) => string;
}

/** A local OpenAI Chat Completions API, see {@link startOpenAIPeer}. */
export interface OpenAIPeer {
  /** `http://127.0.0.1:PORT/v1`: pass as `baseURL`. */
  readonly url: string;
  /** Every chat completion request so far, oldest first. */
  readonly requests: readonly OpenAIRequest[];
  /** Replaces the answer: a fixed text of any length, or a function of the request. */
  setAnswer(answer: string | ((request: ChatRequest) => string)): void;
  setTokenDelay(ms: number): void;
  /** The next `times` chat completions suffer `fault`. */
  failNext(fault: OpenAIFault, times?: number): void;
  /**
   * Replaces the peer's tool plan (default: the calls the question asks for, once): a function of
   * the request returning the calls to make; `[]` answers in text.
   */
  setToolPlan(plan: ((request: ChatRequest) => PlannedCall[]) | undefined): void;
  /** While on, a request that offers `tools` is refused with a 400, as a server without tool support does. */
  refuseTools(on: boolean): void;
  /** Forgets requests and pending faults; restores the starting answer and delay, tools accepted. */
  reset(): void;
  /** Stops the server and destroys open sockets, mid-stream ones included. */
  close(): Promise<void>;
}

const textOf = (content: ChatMessage['content']): string =>
  typeof content === 'string' ? content : (content ?? []).map((part) => part.text ?? '').join('');

/** The `image_url` parts of every message, in order. */
export function imagePartsOf(messages: ChatMessage[]): string[] {
  return messages.flatMap((m) =>
    Array.isArray(m.content)
      ? m.content.flatMap((p) => (p.type === 'image_url' ? [p.image_url?.url ?? ''] : []))
      : [],
  );
}

/** Decodes `data:<mime>;base64,<data>` URLs; other URLs are skipped. */
function decodeImages(messages: ChatMessage[]): ReceivedImage[] {
  return imagePartsOf(messages).flatMap((url) => {
    const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
    return match ? [{ mimetype: match[1]!, bytes: Buffer.from(match[2]!, 'base64') }] : [];
  });
}

/**
 * What the request showed of attached files: image parts, and the files named in the last user
 * message by lib/context ("Attached file x.txt:" inlined, "named x.pdf" not read), so `npm start`
 * can show that the model saw them.
 */
export function attachmentsLine(messages: ChatMessage[]): string | undefined {
  const images = imagePartsOf(messages).length;
  const last = textOf(messages.findLast((m) => m.role === 'user')?.content);
  const inlined = [...last.matchAll(/^Attached file (.+):$/gm)].map((m) => m[1]!);
  const named = [...last.matchAll(/named (\S+?) (?:\(|was)/g)].map((m) => m[1]!);
  if (images === 0 && inlined.length === 0 && named.length === 0) return undefined;
  const parts = [`**${images} image${images === 1 ? '' : 's'}**`];
  if (inlined.length > 0) parts.push(`the text of ${inlined.join(', ')}`);
  if (named.length > 0) parts.push(`the names of ${named.join(', ')}`);
  return `I saw ${parts.join(', ')}.`;
}

/**
 * The peer's default answer, a pure function of the request so tests can predict it: it quotes
 * the last user message, counts the messages received (and says which images and files it saw,
 * when there were any), then has a bold phrase, a three-item bullet list and a fenced code block.
 *
 * @example
 * defaultAnswer({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] });
 * // 'You said: "Hi"\n\nI received **1 message** in this conversation. …'
 */
export function defaultAnswer(request: ChatRequest): string {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  const fromTools = answerFromTools(messages);
  if (fromTools) return fromTools;
  const question = textOf(messages.findLast((m) => m.role === 'user')?.content).trim();
  const count = `${messages.length} message${messages.length === 1 ? '' : 's'}`;
  const attachments = attachmentsLine(messages);
  return [
    `You said: ${question === '' ? 'nothing' : `"${question}"`}`,
    '',
    ...(attachments ? [attachments, ''] : []),
    `I received **${count}** in this conversation. Three things about this answer:`,
    '',
    '- it comes from the **local OpenAI peer**',
    '- the same request always gets the same answer',
    '- it arrives one token at a time',
    '',
    '```ts',
    "const answer = 'deterministic';",
    '```',
    '',
    'That is all.',
  ].join('\n');
}

/**
 * Markdown of exactly `chars` characters: numbered sections, each with a heading, a paragraph
 * with bold and inline code, a bullet list and a closed code fence, then plain words to make
 * up the length (so no code fence is ever cut). For answers longer than one Slack message.
 */
export function answerOfLength(chars: number): string {
  let text = '';
  for (let i = 1; ; i++) {
    const section =
      `### Part ${i}\n\nParagraph ${i} makes a **bold claim** about \`queue_${i}\`, then lists:\n\n` +
      `- first point of part ${i}\n- second point of part ${i}\n\n\`\`\`js\nconsole.log(${i});\n\`\`\`\n\n`;
    if (text.length + section.length > chars) break;
    text += section;
  }
  const filler = 'and more plain words '.repeat(Math.ceil((chars - text.length) / 21) + 1);
  return (text + filler).slice(0, chars).replace(/ $/, '.');
}

/** The tokens the peer streams: runs of up to 8 non-space characters with their trailing space. */
export function tokenize(text: string): string[] {
  return text.match(/\S{1,8}\s*|\s+/gu) ?? [];
}

const ERRORS = {
  400: { message: "Invalid value for 'messages'.", type: 'invalid_request_error', code: null },
  401: { message: 'Incorrect API key provided: x.', type: 'invalid_request_error', code: 'invalid_api_key' },
  429: { message: 'Rate limit reached for requests.', type: 'requests', code: 'rate_limit_exceeded' },
  500: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    code: null,
  },
} as const;

const errorBody = (status: keyof typeof ERRORS, message?: string) => ({
  error: { ...ERRORS[status], ...(message !== undefined && { message }), param: null },
});

/** Writes `data` and resolves once it is handed to the socket (false if the client went away). */
const write = (res: ServerResponse, data: string) =>
  new Promise<boolean>((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve(false);
    res.write(data, (error) => resolve(!error));
  });

const frame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;

/**
 * Starts a local OpenAI Chat Completions API on 127.0.0.1 that the real `openai` client talks
 * to over a socket: `POST /v1/chat/completions` (JSON, or SSE with `stream: true`, exactly as
 * OpenAI frames it) and `GET /v1/models`.
 *
 * @example
 * const llm = await startOpenAIPeer({ tokenDelayMs: 5 });
 * const openai = new OpenAI({ baseURL: llm.url, apiKey: 'x', maxRetries: 0 });
 * const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
 * for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
 * await llm.close();
 */
export async function startOpenAIPeer(options: OpenAIPeerOptions = {}): Promise<OpenAIPeer> {
  const initialAnswer = options.answer ?? defaultAnswer;
  let answer = initialAnswer;
  let tokenDelayMs = options.tokenDelayMs ?? 0;
  const requests: OpenAIRequest[] = [];
  const faults: OpenAIFault[] = [];
  const { sleep, endAll } = cancellableWaits('the OpenAI peer is closed');
  let served = 0;
  let toolPlan: ((request: ChatRequest) => PlannedCall[]) | undefined;
  let refusingTools = false;

  async function complete(req: IncomingMessage, res: ServerResponse, at: number): Promise<void> {
    const requestId = `req_local${++served}`;
    if (!/^Bearer\s+\S+/.test(req.headers.authorization ?? '')) {
      return sendJson(res, 401, errorBody(401, "You didn't provide an API key."), {
        'x-request-id': requestId,
      });
    }
    let body: ChatRequest;
    try {
      body = JSON.parse(await readBody(req)) as ChatRequest;
    } catch {
      return sendJson(res, 400, errorBody(400, 'We could not parse the JSON body of your request.'));
    }
    if (typeof body?.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      return sendJson(res, 400, errorBody(400, "Missing required parameter: 'model' or 'messages'."));
    }
    // An image OpenAI cannot use fails the request before anything else: no fault is spent on it.
    const refused = imagePartsOf(body.messages)
      .map(imageRefusal)
      .find((r) => r !== undefined);
    const fault = refused ? undefined : faults.shift();
    const record: OpenAIRequest = {
      body,
      headers: req.headers,
      at,
      ...(fault && { fault }),
      images: decodeImages(body.messages),
    };
    requests.push(record);
    if (refused) {
      sendJson(res, 400, { error: IMAGE_ERRORS[refused] }, { 'x-request-id': requestId });
      record.finishedAt = performance.now();
      return;
    }
    if (fault && 'status' in fault) {
      const headers: Record<string, string> = { 'x-request-id': requestId };
      if (fault.status === 429) headers['retry-after'] = String(fault.retryAfter ?? 1);
      sendJson(res, fault.status, errorBody(fault.status), headers);
      record.finishedAt = performance.now();
      return;
    }

    const offersTools = Array.isArray(body.tools) && body.tools.length > 0;
    if (offersTools && refusingTools) {
      // What Ollama answers for a model without tool support.
      return sendJson(
        res,
        400,
        errorBody(400, 'registry.ollama.ai/library/llama2:latest does not support tools'),
      );
    }
    const calls =
      offersTools && body.tool_choice !== 'none'
        ? (toolPlan?.(body) ?? plannedCalls(body.messages, body.tools ?? []))
        : [];
    if (calls.length > 0) {
      record.toolCalls = calls;
      await answerWithToolCalls(res, { ...body, served }, calls);
      record.finishedAt = performance.now();
      return;
    }
    let tokens = tokenize(answer(body));
    let finishReason = 'stop';
    if (fault && 'contentFilter' in fault) {
      tokens = tokens.slice(0, Math.ceil(tokens.length / 2));
      finishReason = 'content_filter';
    }
    const cutAfter = fault && 'dropAfterTokens' in fault ? fault.dropAfterTokens : undefined;
    const errorAfter = fault && 'errorFrameAfterTokens' in fault ? fault.errorFrameAfterTokens : undefined;
    const promptTokens = body.messages.reduce(
      (sum, m) => sum + 4 + Math.ceil(textOf(m.content).length / 4),
      3,
    );
    const usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const base = {
      id: `chatcmpl-local${served}`,
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      system_fingerprint: 'fp_local_peer',
    };
    const headers = { 'x-request-id': requestId, 'openai-version': '2020-10-01' };

    if (!body.stream) {
      if (tokenDelayMs > 0) await sleep(tokenDelayMs * tokens.length);
      if (cutAfter !== undefined) return void res.socket?.destroy();
      if (errorAfter !== undefined) return sendJson(res, 500, errorBody(500), headers);
      const content = tokens.join('');
      const message = { role: 'assistant', content, refusal: null, annotations: [] };
      const choice = { index: 0, message, logprobs: null, finish_reason: finishReason };
      sendJson(res, 200, { ...base, object: 'chat.completion', choices: [choice], usage }, headers);
      record.finishedAt = performance.now();
      return;
    }

    // https://platform.openai.com/docs/api-reference/chat-streaming
    const withUsage = body.stream_options?.include_usage === true && !(fault && 'omitUsage' in fault);
    const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason }],
      ...(withUsage && { usage: null }),
    });
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      ...headers,
    });
    if (!(await write(res, frame(chunk({ role: 'assistant', content: '', refusal: null }))))) return;
    for (let sent = 0; ; sent++) {
      if (sent === cutAfter) return void res.socket?.destroy();
      if (sent === errorAfter) {
        await write(res, frame({ error: { ...ERRORS[500], param: null } }));
        return void res.end();
      }
      const token = tokens[sent];
      if (token === undefined) break;
      if (tokenDelayMs > 0) await sleep(tokenDelayMs);
      if (!(await write(res, frame(chunk({ content: token }))))) {
        record.abortedAt = performance.now();
        return;
      }
      record.tokensSent = sent + 1;
      record.firstTokenAt ??= performance.now();
    }
    await write(res, frame(chunk({}, finishReason)));
    if (withUsage) await write(res, frame({ ...base, object: 'chat.completion.chunk', choices: [], usage }));
    await write(res, 'data: [DONE]\n\n');
    res.end();
    record.finishedAt = performance.now();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method === 'POST' && path === '/v1/chat/completions') return complete(req, res, at);
    if (req.method === 'GET' && path === '/v1/models') {
      const model = (id: string) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'local-peer' });
      return sendJson(res, 200, { object: 'list', data: [model('gpt-4o-mini'), model('gpt-4.1-mini')] });
    }
    await readBody(req);
    sendJson(res, 404, errorBody(400, `Invalid URL (${req.method} ${path})`));
  }

  const server = await listen((req, res) => {
    handle(req, res).catch(() => {
      // A sleep cut short by close() (the socket is gone anyway), or a bug: answer if still possible.
      if (!res.headersSent) sendJson(res, 500, errorBody(500));
      else res.destroy();
    });
  }, options.port);

  return {
    url: `${server.origin}/v1`,
    requests,
    setAnswer(next) {
      answer = typeof next === 'string' ? () => next : next;
    },
    setTokenDelay(ms) {
      tokenDelayMs = ms;
    },
    setToolPlan(plan) {
      toolPlan = plan;
    },
    refuseTools(on) {
      refusingTools = on;
    },
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    reset() {
      requests.length = 0;
      faults.length = 0;
      answer = initialAnswer;
      tokenDelayMs = options.tokenDelayMs ?? 0;
      toolPlan = undefined;
      refusingTools = false;
    },
    close() {
      endAll();
      return server.close();
    },
  };
}
