import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SingleUseMarks } from './dynamodb-installations';
import { InstallStateError } from './errors';
import { BOT_SCOPES } from './installation';

/** How long an install link's `state` is good for (Slack's own default cookie lifetime is 10 min). */
const STATE_TTL_MS = 10 * 60_000;
/** A state dated this far in the future is refused (clock skew between Lambdas is far smaller). */
const FUTURE_SKEW_MS = 60_000;

interface StatePayload {
  /** Random id: the single-use mark. */
  id: string;
  /** Issued at, epoch ms. */
  iat: number;
}

const b64url = (b: Buffer) => b.toString('base64url');

/**
 * The `state` of the OAuth install flow, as @slack/oauth's `StateStore` wants it
 * (https://docs.slack.dev/tools/node-slack-sdk/oauth#using-a-custom-state-store): signed with
 * `SLACK_STATE_SECRET` (HMAC-SHA256), valid for {@link STATE_TTL_MS}, and single use — the first
 * redirect that presents it marks it used in the installation table, so a replayed redirect is
 * refused. @slack/oauth's default `ClearStateStore` checks signature and age but would accept the
 * same state twice. The value is base64url `payload.signature`: safe in a URL and in the cookie
 * that @slack/oauth binds it to the installing browser with.
 * Returns `{ scopes: BOT_SCOPES }`: the install options are fixed (no per-link options travel in it).
 */
export function singleUseStateStore(options: { secret: string; marks: SingleUseMarks }) {
  const sign = (payload: string) => createHmac('sha256', options.secret).update(payload).digest();
  return {
    async generateStateParam(_installOptions: unknown, now: Date): Promise<string> {
      const payload = b64url(
        Buffer.from(JSON.stringify({ id: randomUUID(), iat: now.getTime() } satisfies StatePayload)),
      );
      return `${payload}.${b64url(sign(payload))}`;
    },
    /** @throws {InstallStateError} naming why: malformed, bad signature, expired, reused. */
    async verifyStateParam(now: Date, state: string | undefined): Promise<{ scopes: string[] }> {
      if (!state) throw new InstallStateError('missing');
      const [payload, signature, extra] = state.split('.');
      if (!payload || !signature || extra !== undefined) throw new InstallStateError('malformed');
      const given = Buffer.from(signature, 'base64url');
      const expected = sign(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new InstallStateError('bad_signature');
      let parsed: StatePayload;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as StatePayload;
      } catch {
        throw new InstallStateError('malformed');
      }
      if (typeof parsed.id !== 'string' || typeof parsed.iat !== 'number')
        throw new InstallStateError('malformed');
      const age = now.getTime() - parsed.iat;
      if (age > STATE_TTL_MS) throw new InstallStateError('expired');
      if (age < -FUTURE_SKEW_MS) throw new InstallStateError('from_the_future');
      if (!(await options.marks.markOnce(parsed.id, parsed.iat + STATE_TTL_MS)))
        throw new InstallStateError('reused');
      return { scopes: [...BOT_SCOPES] };
    },
  };
}
