import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { InstallationStoreError } from './errors';
import {
  candidateKeys,
  type Installation,
  type InstallationQuery,
  type InstallationSummary,
} from './installation';
import type { TokenCipher } from './token-cipher';

/** Installations, kept so that many Lambdas can share them and refresh each token once. */
export interface InstallationStore {
  /** The installation an event or job belongs to (strongly consistent), or undefined. */
  find(query: InstallationQuery): Promise<Installation | undefined>;
  /** The same without reading or decrypting the tokens (the ingress's look-up). */
  summary(query: InstallationQuery): Promise<InstallationSummary | undefined>;
  get(key: string): Promise<Installation | undefined>;
  /** Stores a new installation (a reinstall replaces the old one and any refresh under way). */
  save(installation: Omit<Installation, 'version'>): Promise<Installation>;
  /** @returns whether there was one to delete. */
  remove(key: string): Promise<boolean>;
  /**
   * Takes the right to refresh the tokens of `key` until `untilMs`: only if the item is still at
   * `version` and nobody holds a live lease. A conditional write, so of many Lambdas one wins.
   */
  takeRefreshLease(
    key: string,
    version: number,
    holder: string,
    untilMs: number,
    now: number,
  ): Promise<boolean>;
  /** Saves a refreshed pair and drops the lease, if `holder` still holds it; undefined if not. */
  saveRefreshed(
    key: string,
    holder: string,
    tokens: { botToken: string; refreshToken: string; expiresAt: number },
  ): Promise<Installation | undefined>;
  releaseRefreshLease(key: string, holder: string): Promise<void>;
}

/** Marks that exist once: an install `state` is accepted the first time only. */
export interface SingleUseMarks {
  /** True for the call that created the mark; it may be forgotten after `expiresAtMs`. */
  markOnce(id: string, expiresAtMs: number): Promise<boolean>;
}

type Item = Record<string, AttributeValue>;

const S = (v: string): AttributeValue => ({ S: v });
const N = (v: number): AttributeValue => ({ N: String(v) });
const str = (item: Item, name: string) => item[name]?.S;
const num = (item: Item, name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));

const isConditionFailure = (error: unknown) => (error as Error)?.name === 'ConditionalCheckFailedException';

/** The attributes the ingress reads: no `secrets`. */
const SUMMARY_ATTRIBUTES = ['pk', 'teamId', 'enterpriseId', 'isEnterpriseInstall', 'botUserId'];

/**
 * {@link InstallationStore} and {@link SingleUseMarks} in one DynamoDB table keyed by `pk`
 * (string): `team:T…` / `enterprise:E…` for installations, `state:<id>` for used install states
 * (removed by the table's TTL on `ttl`, epoch seconds:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html).
 * The tokens are one encrypted attribute (`secrets`, bound to the key). Refresh leases are
 * conditional updates
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html):
 * refresh tokens are single use, and @slack/oauth's own refresh has no lock across processes
 * (https://github.com/slackapi/node-slack-sdk/issues/2504).
 * Reads are strongly consistent: a token refreshed a moment ago by another Lambda must be seen.
 */
export function dynamoDbInstallations(
  client: DynamoDBClient,
  table: string,
  cipher: TokenCipher,
): InstallationStore & SingleUseMarks {
  const send = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (isConditionFailure(error)) throw error;
      throw new InstallationStoreError(`DynamoDB ${what} failed: ${(error as Error)?.name ?? 'error'}`, {
        cause: error,
      });
    }
  };
  const conditional = async (what: string, run: () => Promise<unknown>): Promise<boolean> => {
    try {
      await send(what, run);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  /** A conditional UpdateItem of one item: false when its condition failed. */
  const update = (
    what: string,
    key: string,
    input: Pick<
      UpdateItemCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'
    >,
  ) =>
    conditional(`UpdateItem (${what})`, () =>
      client.send(new UpdateItemCommand({ TableName: table, Key: { pk: S(key) }, ...input })),
    );

  const read = async (key: string, attributes?: string[]): Promise<Item | undefined> => {
    const out = await send('GetItem', () =>
      client.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: S(key) },
          ConsistentRead: true,
          ...(attributes ? { ProjectionExpression: attributes.join(', ') } : {}),
        }),
      ),
    );
    return out.Item;
  };

  const summaryOf = (item: Item): InstallationSummary => ({
    key: str(item, 'pk')!,
    teamId: str(item, 'teamId'),
    enterpriseId: str(item, 'enterpriseId'),
    isEnterpriseInstall: item.isEnterpriseInstall?.BOOL === true,
    botUserId: str(item, 'botUserId') ?? '',
  });

  const installationOf = (item: Item): Installation => {
    const key = str(item, 'pk')!;
    const sealed = item.secrets?.B;
    if (!sealed) throw new InstallationStoreError(`installation ${key} has no tokens`);
    const secrets = cipher.open(sealed, key);
    return {
      ...summaryOf(item),
      appId: str(item, 'appId'),
      botId: str(item, 'botId'),
      scopes: item.scopes?.SS ?? [],
      installerUserId: str(item, 'installerUserId'),
      botToken: secrets.botToken,
      refreshToken: secrets.refreshToken,
      expiresAt: num(item, 'expiresAt'),
      version: num(item, 'version') ?? 0,
      installedAt: num(item, 'installedAt') ?? 0,
    };
  };

  const first = async <T>(query: InstallationQuery, load: (key: string) => Promise<T | undefined>) => {
    for (const key of candidateKeys(query)) {
      const found = await load(key);
      if (found) return found;
    }
    return undefined;
  };

  const get = async (key: string) => {
    const item = await read(key);
    return item?.secrets ? installationOf(item) : undefined;
  };

  return {
    get,
    find: (query) => first(query, get),
    summary: (query) =>
      first(query, async (key) => {
        const item = await read(key, SUMMARY_ATTRIBUTES);
        return item?.botUserId ? summaryOf(item) : undefined;
      }),
    async save(installation) {
      const version = Date.now();
      const { key } = installation;
      const item: Item = {
        pk: S(key),
        kind: S('installation'),
        isEnterpriseInstall: { BOOL: installation.isEnterpriseInstall },
        botUserId: S(installation.botUserId),
        secrets: {
          B: cipher.seal({ botToken: installation.botToken, refreshToken: installation.refreshToken }, key),
        },
        version: N(version),
        installedAt: N(installation.installedAt),
      };
      const optional = {
        teamId: installation.teamId,
        enterpriseId: installation.enterpriseId,
        appId: installation.appId,
        botId: installation.botId,
        installerUserId: installation.installerUserId,
      };
      for (const [name, value] of Object.entries(optional)) if (value) item[name] = S(value);
      if (installation.scopes.length > 0) item.scopes = { SS: [...new Set(installation.scopes)] };
      if (installation.expiresAt !== undefined) item.expiresAt = N(installation.expiresAt);
      await send('PutItem', () => client.send(new PutItemCommand({ TableName: table, Item: item })));
      return { ...installation, version };
    },
    async remove(key) {
      const out = await send('DeleteItem', () =>
        client.send(
          new DeleteItemCommand({ TableName: table, Key: { pk: S(key) }, ReturnValues: 'ALL_OLD' }),
        ),
      );
      return out.Attributes !== undefined;
    },
    takeRefreshLease: (key, version, holder, untilMs, now) =>
      update('refresh lease', key, {
        UpdateExpression: 'SET leaseHolder = :holder, leaseUntil = :until',
        ConditionExpression:
          'attribute_exists(pk) AND version = :version AND (attribute_not_exists(leaseUntil) OR ' +
          'leaseUntil < :now)',
        ExpressionAttributeValues: {
          ':holder': S(holder),
          ':until': N(untilMs),
          ':version': N(version),
          ':now': N(now),
        },
      }),
    async saveRefreshed(key, holder, tokens) {
      const saved = await update('refreshed tokens', key, {
        UpdateExpression:
          'SET secrets = :secrets, expiresAt = :expires, version = version + :one ' +
          'REMOVE leaseHolder, leaseUntil',
        ConditionExpression: 'leaseHolder = :holder',
        ExpressionAttributeValues: {
          ':secrets': {
            B: cipher.seal({ botToken: tokens.botToken, refreshToken: tokens.refreshToken }, key),
          },
          ':expires': N(tokens.expiresAt),
          ':one': N(1),
          ':holder': S(holder),
        },
      });
      return saved ? get(key) : undefined;
    },
    async releaseRefreshLease(key, holder) {
      await update('release lease', key, {
        UpdateExpression: 'REMOVE leaseHolder, leaseUntil',
        ConditionExpression: 'leaseHolder = :holder',
        ExpressionAttributeValues: { ':holder': S(holder) },
      });
    },
    markOnce: (id, expiresAtMs) =>
      conditional('PutItem (single-use mark)', () =>
        client.send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: S(`state:${id}`), kind: S('state'), ttl: N(Math.ceil(expiresAtMs / 1000)) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ),
  };
}
