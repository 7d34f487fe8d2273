import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors';

/**
 * Slack request signing, version 0.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 * `x-slack-signature` = `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`),
 * and `x-slack-request-timestamp` must be within five minutes of now (replay protection).
 */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** What a signature check needs from the request. Header names are lower-case. */
export interface SignedRequest {
  headers: Record<string, string | undefined>;
  /** The body exactly as sent: the HMAC covers these bytes. */
  rawBody: Buffer;
}

/** Computes the `x-slack-signature` value for a body; used by our replay tools and tests. */
export function signSlackBody(secret: string, timestamp: number, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Throws unless the request carries a valid, fresh Slack signature.
 * @param nowSeconds the current time in epoch seconds (injectable for tests).
 * @throws {SignatureError} with the reason, for the log only.
 */
export function verifySlackSignature(
  request: SignedRequest,
  secret: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): void {
  const signature = request.headers['x-slack-signature'];
  const timestampHeader = request.headers['x-slack-request-timestamp'];
  if (!signature) throw new SignatureError('missing_signature');
  if (!timestampHeader) throw new SignatureError('missing_timestamp');
  if (!/^\d{1,12}$/.test(timestampHeader)) throw new SignatureError('malformed_timestamp');
  const timestamp = Number(timestampHeader);
  if (nowSeconds - timestamp > MAX_CLOCK_SKEW_SECONDS) throw new SignatureError('stale_timestamp');
  if (timestamp - nowSeconds > MAX_CLOCK_SKEW_SECONDS) throw new SignatureError('future_timestamp');
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) throw new SignatureError('malformed_signature');
  const expected = Buffer.from(signSlackBody(secret, timestamp, request.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // Equal lengths are guaranteed by the format check above; timingSafeEqual requires them.
  if (!timingSafeEqual(expected, given)) throw new SignatureError('signature_mismatch');
}
