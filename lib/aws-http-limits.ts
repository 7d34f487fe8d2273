/**
 * The `requestHandler` options of every AWS SDK client we build (SQS, SSM, DynamoDB): how long to
 * wait for a connection, and for a whole request once connected.
 *
 * `requestTimeout` alone is not enforced: @smithy/node-http-handler (4.x, installed 4.14) only logs
 * a warning when it passes unless `throwOnRequestTimeout` is set, which destroys the request and
 * fails it with a `TimeoutError` (retried by the client like any timeout, within `maxAttempts`).
 * See `NodeHttpHandlerOptions.throwOnRequestTimeout` in
 * https://github.com/smithy-lang/smithy-typescript/blob/main/packages/types/src/http/httpHandlerInitialization.ts
 * Without it an endpoint that takes the connection and never answers holds the call until the
 * Lambda's own timeout.
 */
export function awsHttpLimits(limits: { connectionTimeoutMs: number; requestTimeoutMs: number }) {
  return {
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}
