import { SignatureError } from '../../lib/errors';
import { signSlackBody, verifySlackSignature } from '../../lib/slack/signature';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const now = 1_700_000_000;

function request(body: string, headers: Record<string, string | undefined>) {
  return { headers, rawBody: Buffer.from(body, 'utf8') };
}

function reasonOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof SignatureError) return error.reason;
    throw error;
  }
}

describe('verifySlackSignature', () => {
  const body = 'token=xyz&team_id=T1&text=%E2%9C%93';
  const valid = {
    'x-slack-request-timestamp': String(now),
    'x-slack-signature': signSlackBody(secret, now, body),
  };

  it('matches the example from Slack’s documentation', () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (worked example)
    const slackBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackBody('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, slackBody)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('accepts a valid signature', () => {
    expect(reasonOf(() => verifySlackSignature(request(body, valid), secret, now))).toBeUndefined();
  });

  it('accepts a timestamp just inside the five-minute window', () => {
    expect(reasonOf(() => verifySlackSignature(request(body, valid), secret, now + 300))).toBeUndefined();
  });

  it('rejects a signature made with another secret', () => {
    const headers = { ...valid, 'x-slack-signature': signSlackBody('other-secret', now, body) };
    expect(reasonOf(() => verifySlackSignature(request(body, headers), secret, now))).toBe(
      'signature_mismatch',
    );
  });

  it('rejects a body changed after signing', () => {
    expect(reasonOf(() => verifySlackSignature(request(`${body}x`, valid), secret, now))).toBe(
      'signature_mismatch',
    );
  });

  it('rejects a stale timestamp', () => {
    expect(reasonOf(() => verifySlackSignature(request(body, valid), secret, now + 301))).toBe(
      'stale_timestamp',
    );
  });

  it('rejects a timestamp from the future', () => {
    expect(reasonOf(() => verifySlackSignature(request(body, valid), secret, now - 301))).toBe(
      'future_timestamp',
    );
  });

  it.each([
    ['missing_signature', { 'x-slack-request-timestamp': String(now) }],
    ['missing_timestamp', { 'x-slack-signature': valid['x-slack-signature'] }],
    ['malformed_timestamp', { ...valid, 'x-slack-request-timestamp': '17e8' }],
    ['malformed_signature', { ...valid, 'x-slack-signature': 'v1=abc' }],
  ])('rejects %s', (reason, headers) => {
    expect(reasonOf(() => verifySlackSignature(request(body, headers), secret, now))).toBe(reason);
  });

  it('verifies over raw bytes, so a base64-decoded body with non-ASCII text matches', () => {
    const text = JSON.stringify({ text: 'こんにちは 👋' });
    const raw = Buffer.from(Buffer.from(text, 'utf8').toString('base64'), 'base64');
    const headers = {
      'x-slack-request-timestamp': String(now),
      'x-slack-signature': signSlackBody(secret, now, text),
    };
    expect(reasonOf(() => verifySlackSignature({ headers, rawBody: raw }, secret, now))).toBeUndefined();
  });
});
