import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IngressRequest, IngressResponse } from '../ingress/receive-slack-request';

/**
 * Maps a Lambda Function URL event (payload format 2.0) to our request shape.
 * Function URLs lower-case header names and may deliver the body base64-encoded
 * (`isBase64Encoded: true`); the signature covers the decoded bytes.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
export function fromFunctionUrlEvent(event: APIGatewayProxyEventV2): IngressRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  // Payload 2.0 moves the request's cookies out of the headers into `cookies`.
  if (event.cookies?.length) headers.cookie = event.cookies.join('; ');
  const body = event.body ?? '';
  return {
    method: event.requestContext?.http?.method?.toUpperCase() ?? 'GET',
    headers,
    rawBody: event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    query: event.rawQueryString ?? '',
  };
}

/** Maps our response to a Function URL result (cookies in their own field, as payload 2.0 wants). */
export function toFunctionUrlResult(response: IngressResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: response.statusCode,
    headers: response.headers ?? {},
    body: response.body ?? '',
    ...(response.cookies?.length ? { cookies: response.cookies } : {}),
  };
}
