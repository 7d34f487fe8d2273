import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbInstallations } from '../../lib/install/dynamodb-installations';
import { aesGcmTokenCipher } from '../../lib/install/token-cipher';
import { LOCAL_OAUTH } from '../../sandbox/local-stack';
import { distributionHarness, LOCAL_WORKSPACES } from '../support/distribution-harness';

const [ACME, GLOBEX, INITECH1, INITECH2] = LOCAL_WORKSPACES;
/** The Slack peer's clock runs ahead of ours by this much (token expiry). */
let slackAhead = 0;
const h = distributionHarness({
  name: 'dist-tokens',
  distribution: { tokenRotation: true },
  slackNow: () => Date.now() + slackAhead,
});

const store = () =>
  dynamoDbInstallations(
    h.stack.dynamodb!.client(),
    LOCAL_OAUTH.table,
    aesGcmTokenCipher(Buffer.from(LOCAL_OAUTH.tokenEncryptionKey, 'base64')),
  );
const errors = () => h.logs().filter((l) => l.level === 'ERROR');

describe('tokens of installations (distribution mode, token rotation on)', () => {
  it('refreshes an expired token once when 10 workers answer at once, and sends every answer', async () => {
    // Prepare: Acme installed; twelve hours later its token has expired, at Slack and in the store
    expect((await h.install(ACME.teamId)).status).toBe(200);
    const first = await store().find({ teamId: ACME.teamId });
    expect(first?.botToken).toMatch(/^xoxe\.xoxb-/);
    expect(first?.refreshToken).toBeDefined();
    slackAhead = 12 * 60 * 60_000 + 60_000;
    await h.stack.dynamodb!.client().send(
      new UpdateItemCommand({
        TableName: LOCAL_OAUTH.table,
        Key: { pk: { S: 'team:T0ACME' } },
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': { N: String(Date.now() - 60_000) } },
      }),
    );
    const questions = Array.from({ length: 10 }, (_, i) => h.mention(ACME, `Question ${i + 1}`));
    for (const q of questions) expect((await h.post(q.body)).status).toBe(200);
    const refreshesBefore = h.stack.slack.oauth!.refreshes;
    // Act: ten worker instances (ten Lambdas, no shared memory) take one job each, at once
    const workers = questions.map(() => h.worker());
    const results = await Promise.all(workers.map((w) => h.poll(w)));
    for (const w of workers) await h.drain(w);
    // Assess: one refresh; every answer sent, all with the new token; nothing failed
    expect(h.stack.slack.oauth!.refreshes - refreshesBefore).toBe(1);
    expect(results.every((r) => r?.response.batchItemFailures.length === 0)).toBe(true);
    for (const q of questions) expect(h.replies(q.channel, q.threadTs, ACME.botUserId)).toHaveLength(1);
    const refreshed = await store().find({ teamId: ACME.teamId });
    expect(refreshed!.botToken).not.toBe(first!.botToken);
    expect(refreshed!.expiresAt!).toBeGreaterThan(Date.now() + 11 * 60 * 60_000);
    const acmeCalls = h.stack.slack.calls.filter((c) => c.args.channel === ACME.channel && c.as);
    expect(acmeCalls.filter((c) => c.as!.token === first!.botToken)).toEqual([]);
    expect(acmeCalls.every((c) => c.response.ok)).toBe(true);
    expect(errors()).toEqual([]);
    expect(h.logs().filter((l) => l.message === 'refreshed the installation’s bot token')).toHaveLength(1);
  });

  it('removes the installation on app_uninstalled: later events are not queued, queued jobs complete quietly', async () => {
    // Prepare: Globex installed and answered once (the worker now holds its token)
    expect((await h.install(GLOBEX.teamId)).status).toBe(200);
    const worker = h.worker();
    const before = h.mention(GLOBEX, 'Before');
    await h.post(before.body);
    await h.drain(worker);
    expect(h.replies(before.channel, before.threadTs, GLOBEX.botUserId)).toHaveLength(1);
    // A question queued just before the uninstall
    const queued = h.mention(GLOBEX, 'Queued meanwhile');
    await h.post(queued.body);
    // Act: Globex uninstalls the app (Slack revokes its tokens and sends the event)
    h.stack.slack.oauth!.revoke('team:T0GLOBEX');
    const uninstall = await h.post(h.installationEvent(GLOBEX, { type: 'app_uninstalled' }));
    const after = h.mention(GLOBEX, 'After');
    const afterResponse = await h.post(after.body);
    const results = await h.drain(worker);
    // Assess
    expect(uninstall.status).toBe(200);
    expect(await store().summary({ teamId: GLOBEX.teamId })).toBeUndefined();
    expect(afterResponse.status).toBe(200);
    expect(results.flatMap((r) => r.event.Records)).toHaveLength(1);
    expect(results.every((r) => r.response.batchItemFailures.length === 0)).toBe(true);
    expect(h.replies(queued.channel, queued.threadTs, GLOBEX.botUserId)).toEqual([]);
    expect(h.stack.sqs.countMessages(h.queue.dlqName).ready).toBe(0);
    expect(errors()).toEqual([]);
    expect(h.logs().some((l) => String(l.message).includes('completes quietly'))).toBe(true);
  });

  it('keeps an installation when only user tokens are revoked, removes it when its bot token is', async () => {
    // Prepare
    expect((await h.install(INITECH2.teamId)).status).toBe(200);
    // Act
    const users = await h.post(
      h.installationEvent(INITECH2, { type: 'tokens_revoked', tokens: { oauth: ['U0SOMEONE'] } }),
    );
    const kept = await store().summary({ teamId: INITECH2.teamId });
    const bot = await h.post(
      h.installationEvent(INITECH2, { type: 'tokens_revoked', tokens: { bot: [INITECH2.botUserId] } }),
    );
    // Assess
    expect([users.status, bot.status]).toEqual([200, 200]);
    expect(kept?.botUserId).toBe(INITECH2.botUserId);
    expect(await store().summary({ teamId: INITECH2.teamId })).toBeUndefined();
  });

  it('fails the record towards the dead-letter queue with an ERROR when Slack refuses the token of an installation that still exists', async () => {
    // Prepare: installed, then the token revoked at Slack with no event (the installation stays)
    expect((await h.install(INITECH1.teamId)).status).toBe(200);
    h.stack.slack.oauth!.revoke('team:T0INITECH1');
    const q = h.mention(INITECH1, 'Anyone there?');
    await h.post(q.body);
    // Act
    const result = await h.poll(h.worker());
    // Assess
    expect(result?.response.batchItemFailures).toHaveLength(1);
    expect(errors().some((l) => String(l.message).includes('refused the bot’s token'))).toBe(true);
    expect(await store().summary({ teamId: INITECH1.teamId })).toBeDefined();
  });
});
