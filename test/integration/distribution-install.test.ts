import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbInstallations } from '../../lib/install/dynamodb-installations';
import { singleUseStateStore } from '../../lib/install/install-state';
import { BOT_SCOPES } from '../../lib/install/installation';
import { aesGcmTokenCipher } from '../../lib/install/token-cipher';
import { installThroughBrowser, revisit } from '../../sandbox/install-browser';
import { LOCAL_OAUTH } from '../../sandbox/local-stack';
import { distributionHarness, LOCAL_WORKSPACES } from '../support/distribution-harness';

const [ACME, GLOBEX, INITECH1] = LOCAL_WORKSPACES;
const h = distributionHarness({ name: 'dist-install' });

const store = () =>
  dynamoDbInstallations(
    h.stack.dynamodb!.client(),
    LOCAL_OAUTH.table,
    aesGcmTokenCipher(Buffer.from(LOCAL_OAUTH.tokenEncryptionKey, 'base64')),
  );
const exchanges = () => h.stack.slack.callsTo('oauth.v2.access').length;

describe('installing through OAuth (distribution mode)', () => {
  it('installs into a workspace through the redirect flow, stores the token encrypted, and answers there with it', async () => {
    // Act
    const visit = await h.install(ACME.teamId);
    // Assess: the browser's page, the stored installation, its token unreadable in the table
    expect(visit.status).toBe(200);
    expect(visit.page).toContain('installed in Acme');
    const installed = await store().find({ teamId: ACME.teamId });
    const issued = h.stack.slack.oauth!.tokens.filter((t) => t.teamId === ACME.teamId).at(-1)!;
    expect(installed).toMatchObject({
      key: 'team:T0ACME',
      botUserId: ACME.botUserId,
      botToken: issued.token,
    });
    expect(installed!.scopes).toEqual(expect.arrayContaining(['chat:write']));
    const raw = await h.stack
      .dynamodb!.client()
      .send(new GetItemCommand({ TableName: LOCAL_OAUTH.table, Key: { pk: { S: 'team:T0ACME' } } }));
    expect(JSON.stringify(raw.Item)).not.toContain(issued.token);
    expect(Buffer.from(raw.Item!.secrets!.B!).toString('latin1')).not.toContain(issued.token);
    expect(
      h
        .logs()
        .map((l) => JSON.stringify(l))
        .join('\n'),
    ).not.toContain(issued.token);

    // Act: a mention in that workspace
    const question = h.mention(ACME);
    expect((await h.post(question.body)).status).toBe(200);
    await h.drain(h.worker());
    // Assess: one answer, every Slack call of the job with Acme's own token
    expect(h.replies(question.channel, question.threadTs, ACME.botUserId)).toHaveLength(1);
    const jobCalls = h.stack.slack.calls.filter(
      (c) => c.args.channel === ACME.channel || c.args.channel_id === ACME.channel,
    );
    expect(jobCalls.length).toBeGreaterThan(0);
    expect(new Set(jobCalls.map((c) => c.as?.token))).toEqual(new Set([issued.token]));
  });

  it('serves the install page with an Add to Slack link to the authorize page and a state cookie', async () => {
    // Act
    const response = await fetch(`${h.server.origin}/slack/install`);
    // Assess
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('Add to Slack');
    const link = new URL(/href="([^"]+)"/.exec(html)![1]!.replace(/&#38;/g, '&'));
    expect(link.pathname).toBe('/oauth/v2/authorize');
    expect(link.searchParams.get('client_id')).toBe(LOCAL_OAUTH.clientId);
    expect(link.searchParams.get('scope')!.split(',')).toEqual([...BOT_SCOPES]);
    const state = link.searchParams.get('state')!;
    expect(response.headers.getSetCookie()[0]).toContain(`slack-app-oauth-state=${state}`);
    expect(response.headers.getSetCookie()[0]).toContain('HttpOnly');
  });

  it('refuses a forged state, a state from another browser, a reused one and an expired one, and stores nothing', async () => {
    const before = exchanges();
    // Act: the state's signature changed (and the cookie with it, so only the signature is wrong)
    const forged = await installThroughBrowser(h.server.origin, GLOBEX.teamId, (redirect) => {
      const state = redirect.searchParams.get('state')!;
      const bad = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
      redirect.searchParams.set('state', bad);
      return { redirect, cookie: `slack-app-oauth-state=${bad}` };
    });
    // Act: no cookie (the link was opened in another browser)
    const elsewhere = await installThroughBrowser(h.server.origin, GLOBEX.teamId, (redirect) => ({
      redirect,
      cookie: '',
    }));
    // Act: a state signed with our secret but issued 11 minutes ago
    const oldState = await singleUseStateStore({
      secret: LOCAL_OAUTH.stateSecret,
      marks: { markOnce: async () => true },
    }).generateStateParam({}, new Date(Date.now() - 11 * 60_000));
    const expired = await installThroughBrowser(h.server.origin, GLOBEX.teamId, (redirect) => {
      redirect.searchParams.set('state', oldState);
      return { redirect, cookie: `slack-app-oauth-state=${oldState}` };
    });
    // Assess: each refused with a page, no code exchanged, nothing stored
    for (const visit of [forged, elsewhere, expired]) {
      expect(visit.status).toBe(400);
      expect(visit.page).toContain('did not complete');
    }
    expect(exchanges()).toBe(before);
    expect(await store().summary({ teamId: GLOBEX.teamId })).toBeUndefined();
    const reasons = h
      .logs()
      .filter((l) => l.message === 'install refused')
      .map((l) => l.reason);
    expect(reasons).toEqual(['bad_signature', expect.stringMatching(/invalid_state|state/i), 'expired']);

    // Act: a good install, then its redirect replayed (same state, same code)
    const good = await h.install(GLOBEX.teamId);
    const stored = await store().find({ teamId: GLOBEX.teamId });
    const replayed = await revisit(good.redirect, good.cookie);
    // Assess: the replay is refused as a reused state before any code is exchanged; the installation unchanged
    expect(good.status).toBe(200);
    expect(replayed.status).toBe(400);
    expect(
      h
        .logs()
        .filter((l) => l.message === 'install refused')
        .at(-1)?.reason,
    ).toBe('reused');
    expect(exchanges()).toBe(before + 1);
    expect((await store().find({ teamId: GLOBEX.teamId }))?.version).toBe(stored!.version);
  });

  it('refuses a code that was already used, with a fresh state, and stores nothing new', async () => {
    // Prepare: an install whose code is now spent
    const first = await h.install(INITECH1.teamId);
    const stored = await store().find({ teamId: INITECH1.teamId });
    const spentCode = new URL(first.redirect).searchParams.get('code')!;
    // Act: a new install whose redirect carries the spent code
    const second = await installThroughBrowser(h.server.origin, INITECH1.teamId, (redirect, cookie) => {
      redirect.searchParams.set('code', spentCode);
      return { redirect, cookie };
    });
    // Assess: Slack refuses the code; the page says so; the installation is the first one
    expect(first.status).toBe(200);
    expect(second.status).toBe(400);
    expect(second.page).toContain('invalid_code');
    expect(h.stack.slack.callsTo('oauth.v2.access').at(-1)?.response.error).toBe('invalid_code');
    expect((await store().find({ teamId: INITECH1.teamId }))?.version).toBe(stored!.version);
  });

  it('shows a plain page when the installer cancels on Slack’s page', async () => {
    // Prepare
    h.stack.slack.oauth!.denyNext();
    // Act
    const visit = await installThroughBrowser(h.server.origin, GLOBEX.teamId);
    // Assess
    expect(visit.status).toBe(400);
    expect(visit.page).toContain('did not complete');
  });
});
