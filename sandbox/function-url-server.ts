import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { type Listening, listen } from './peers/listen';

/** A Function URL handler as Lambda calls it. */
export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/**
 * Serves a Lambda Function URL handler over local HTTP, turning each request into a payload 2.0
 * event as Lambda does: lower-case headers, the raw body (base64 with `isBase64Encoded` when it is
 * not text), and the method and path in `requestContext.http`.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
export async function serveFunctionUrl(handler: FunctionUrlHandler, port = 0): Promise<Listening> {
  let requestNo = 0;
  return listen(async (req, res) => {
    const raw = await readRaw(req);
    const event = toEvent(req, raw, ++requestNo);
    try {
      const result = await handler(event, lambdaContext('ingress', 10_000));
      const r = typeof result === 'string' ? { statusCode: 200, body: result } : result;
      const headers: Record<string, string | string[]> = { ...(r.headers as Record<string, string>) };
      // Lambda turns the result's `cookies` into Set-Cookie headers.
      if (r.cookies?.length) headers['set-cookie'] = r.cookies;
      res.writeHead(r.statusCode ?? 200, headers);
      res.end(r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64') : (r.body ?? ''));
    } catch (error) {
      // What Lambda answers when the function throws.
      console.error('ingress handler threw:', error);
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Message: 'Internal Server Error' }));
    }
  }, port);
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function toEvent(req: IncomingMessage, raw: Buffer, n: number): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  // Payload 2.0 carries the request's cookies in `cookies`, not in the headers.
  const cookies = headers.cookie?.split(/;\s*/).filter((c) => c !== '');
  delete headers.cookie;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const contentType = headers['content-type'] ?? '';
  const isText = /^(text\/|application\/(json|x-www-form-urlencoded|xml))/.test(contentType);
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `local-${n}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(cookies?.length ? { cookies } : {}),
    ...(raw.length > 0 ? { body: isText ? raw.toString('utf8') : raw.toString('base64') } : {}),
    isBase64Encoded: raw.length > 0 && !isText,
  };
}
