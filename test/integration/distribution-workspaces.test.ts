import { loadWorkerConfig } from '../../lib/config';
import { SLACK_WRITE_LIMITS } from '../../lib/reply/slack-tiers';
import { budgetKey } from '../../lib/reply/write-budget';
import { MomentoCache } from '../../lib/store/momento-cache';
import { createMomentoClient } from '../../lib/store/momento-client';
import { momentoSharedLog } from '../../lib/store/shared-log';
import { momentoThreadHistory } from '../../lib/store/thread-history';
import { distributionHarness, LOCAL_ENTERPRISE, LOCAL_WORKSPACES } from '../support/distribution-harness';

const [ACME, GLOBEX, INITECH1, INITECH2] = LOCAL_WORKSPACES;
const h = distributionHarness({ name: 'dist-ws' });

const history = () => {
  const config = loadWorkerConfig(h.stack.env);
  return momentoThreadHistory(
    new MomentoCache(createMomentoClient(config.momento), config.momento.cache),
    3600,
  );
};

describe('many workspaces (distribution mode)', () => {
  beforeAll(async () => {
    // Installs once for the file: Acme and Globex as workspaces, Initech org-wide.
    for (const team of [ACME.teamId, GLOBEX.teamId]) expect((await installOnce(team)).status).toBe(200);
  });
  async function installOnce(team: string) {
    const { installThroughBrowser } = await import('../../sandbox/install-browser');
    // The ingress of the first test is not up yet in beforeAll: serve one just for the installs.
    const { serveFunctionUrl } = await import('../../sandbox/function-url-server');
    const { createIngressHandler } = await import('../../lib/ingress/ingress-handler');
    const { loadIngressConfig } = await import('../../lib/config');
    const { createLogger } = await import('../../lib/logger');
    const ingress = createIngressHandler({
      config: loadIngressConfig({ ...h.stack.env, QUEUE_URL: 'http://127.0.0.1:1/unused' }),
      queue: { enqueue: async () => undefined },
      logger: createLogger('install', { logLevel: 'SILENT' }),
      dynamodb: h.stack.dynamodb!.client(),
    });
    const server = await serveFunctionUrl((event, context) => ingress(event, context));
    h.stack.slack.oauth!.redirectUrl = `${server.origin}/slack/oauth_redirect`;
    try {
      return await installThroughBrowser(server.origin, team);
    } finally {
      await server.close();
    }
  }

  it('answers in two workspaces, each with its own token and bot, and keeps their memory apart', async () => {
    // Prepare
    const worker = h.worker();
    const a = h.mention(ACME, 'Remember: the Acme launch code is 1234.');
    const b = h.mention(GLOBEX, 'What did I tell you?');
    // Act
    for (const q of [a, b]) expect((await h.post(q.body)).status).toBe(200);
    await h.drain(worker);
    // Assess: one answer each, by its own bot user, through its own token
    expect(h.replies(a.channel, a.threadTs, ACME.botUserId)).toHaveLength(1);
    expect(h.replies(b.channel, b.threadTs, GLOBEX.botUserId)).toHaveLength(1);
    const tokenOf = (channel: string) =>
      new Set(h.stack.slack.calls.filter((c) => c.args.channel === channel).map((c) => c.as?.token));
    const [acmeToken, globexToken] = [tokenOf(a.channel), tokenOf(b.channel)];
    expect(acmeToken.size).toBe(1);
    expect(globexToken.size).toBe(1);
    expect([...acmeToken][0]).toMatch(/T0ACME/);
    expect([...globexToken][0]).toMatch(/T0GLOBEX/);
    // Memory is per workspace: Acme's thread holds the launch code; the same thread under Globex nothing.
    const acmeMemory = await history().load({
      teamId: ACME.teamId,
      channel: a.channel,
      threadTs: a.threadTs,
    });
    expect(acmeMemory.map((t) => t.content).join(' ')).toContain('1234');
    expect(await history().load({ teamId: GLOBEX.teamId, channel: a.channel, threadTs: a.threadTs })).toEqual(
      [],
    );
    const globexPrompt = JSON.stringify(h.stack.openai!.requests.at(-1));
    expect(globexPrompt).not.toContain('1234');
    // Metrics name the workspace each answer was for.
    const answered = h.metricLines().filter((line) => 'Answers' in line);
    expect(answered.map((line) => line.workspace)).toEqual(
      expect.arrayContaining([ACME.teamId, GLOBEX.teamId]),
    );
    expect(answered.every((line) => typeof line.workspace === 'string')).toBe(true);
  });

  it('counts the daily allowance per workspace: one at its limit does not stop the other', async () => {
    // Prepare: 10 tokens a day per workspace; an answer uses more than that
    const worker = h.worker((c) => ({ ...c, governance: { ...c.governance, teamDailyTokenLimit: 10 } }));
    const first = h.mention(ACME, 'First question of the day');
    await h.post(first.body);
    await h.drain(worker);
    // Act: Acme again (now over its allowance), then Globex (untouched allowance)
    const again = h.mention(ACME, 'Second question');
    const other = h.mention(GLOBEX, 'First Globex question');
    await h.post(again.body);
    await h.post(other.body);
    await h.drain(worker);
    // Assess
    expect(h.replies(again.channel, again.threadTs, ACME.botUserId)[0]?.text).toContain(
      'This workspace has used',
    );
    const globex = h.replies(other.channel, other.threadTs, GLOBEX.botUserId);
    expect(globex).toHaveLength(1);
    expect(globex[0]?.text).not.toContain('allowance');
  });

  it('counts each workspace’s Slack writes in its own budget, never in another’s', async () => {
    // Prepare: the shared write budget on; the edit path posts one placeholder per answer
    const worker = h.worker((c) => ({
      ...c,
      slack: { ...c.slack, streaming: 'edit', sharedWriteBudget: true },
    }));
    const a = h.mention(INITECH1, 'Sales question');
    const b = h.mention(INITECH2, 'Support question');
    for (const team of [INITECH1.teamId, INITECH2.teamId]) expect((await h.install(team)).status).toBe(200);
    // Act: both within the same minute
    await h.post(a.body);
    await h.post(b.body);
    await h.drain(worker);
    // Assess: both answered, each placeholder logged in its own workspace's budget and nowhere else
    expect(h.replies(a.channel, a.threadTs, INITECH1.botUserId)).toHaveLength(1);
    expect(h.replies(b.channel, b.threadTs, INITECH2.botUserId)).toHaveLength(1);
    const config = loadWorkerConfig(h.stack.env);
    const log = momentoSharedLog(new MomentoCache(createMomentoClient(config.momento), config.momento.cache));
    const key = (teamId: string, channel: string) =>
      budgetKey(
        { teamId, channel, method: 'chat.postMessage', priority: 'final' },
        SLACK_WRITE_LIMITS['chat.postMessage']!,
      );
    const posts = async (teamId: string, channel: string) => {
      // Reading the log appends to it: the probe is taken back out, as a refused write would be.
      const entries = await log.append(key(teamId, channel), 'probe', 1_000, 120);
      await log.remove(key(teamId, channel), 'probe');
      return entries.filter((e) => e !== 'probe').length;
    };
    expect(key(INITECH1.teamId, a.channel)).not.toBe(key(INITECH2.teamId, b.channel));
    expect(await posts(INITECH1.teamId, a.channel)).toBe(1);
    expect(await posts(INITECH2.teamId, b.channel)).toBe(1);
  });

  it('answers in two workspaces of an organization through one org-wide installation', async () => {
    // Prepare: the organization installs the app org-wide (Initech's workspace installs are removed first)
    const { dynamoDbInstallations } = await import('../../lib/install/dynamodb-installations');
    const { aesGcmTokenCipher } = await import('../../lib/install/token-cipher');
    const { LOCAL_OAUTH } = await import('../../sandbox/local-stack');
    const store = dynamoDbInstallations(
      h.stack.dynamodb!.client(),
      LOCAL_OAUTH.table,
      aesGcmTokenCipher(Buffer.from(LOCAL_OAUTH.tokenEncryptionKey, 'base64')),
    );
    await store.remove(`team:${INITECH1.teamId}`);
    await store.remove(`team:${INITECH2.teamId}`);
    const visit = await h.install(LOCAL_ENTERPRISE.enterpriseId);
    expect(visit.status).toBe(200);
    expect(
      await store.find({
        teamId: INITECH1.teamId,
        enterpriseId: LOCAL_ENTERPRISE.enterpriseId,
        isEnterpriseInstall: true,
      }),
    ).toMatchObject({
      key: 'enterprise:E0INITECH',
      isEnterpriseInstall: true,
      botUserId: LOCAL_ENTERPRISE.botUserId,
    });
    const worker = h.worker();
    const callsBefore = h.stack.slack.calls.length;
    // Act: a mention in each of the organization's workspaces
    const sales = h.mention(INITECH1, 'Sales asks', true);
    const support = h.mention(INITECH2, 'Support asks', true);
    for (const q of [sales, support]) expect((await h.post(q.body)).status).toBe(200);
    await h.drain(worker);
    // Assess: both answered by the organization's bot, with the organization's one token
    expect(h.replies(sales.channel, sales.threadTs, LOCAL_ENTERPRISE.botUserId)).toHaveLength(1);
    expect(h.replies(support.channel, support.threadTs, LOCAL_ENTERPRISE.botUserId)).toHaveLength(1);
    const tokens = new Set(
      h.stack.slack.calls
        .slice(callsBefore)
        .filter((c) => c.args.channel === sales.channel || c.args.channel === support.channel)
        .map((c) => c.as?.installation),
    );
    expect(tokens).toEqual(new Set(['enterprise:E0INITECH']));
  });

  it('answers 200 and queues nothing for a workspace without an installation, with one INFO line', async () => {
    // Prepare: a workspace the app was never installed in
    const stranger = { ...ACME, teamId: 'T0STRANGER', channel: 'C0STRANGER' } as unknown as typeof ACME;
    const q = h.mention(stranger);
    // Act
    const response = await h.post(q.body);
    // Assess
    expect(response.status).toBe(200);
    expect(h.queued()).toBe(0);
    const lines = h
      .logs()
      .filter((l) => l.message === 'no installation for this workspace; event not queued');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'INFO', team: 'T0STRANGER' });
  });
});
