import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { MAX_MODEL_CALLS_PER_EVENT, modelCallsPerEvent } from '../../lib/llm/model-call-budget';
import { METRIC } from '../../lib/metrics';
import { type AnswerJob, decodeJob } from '../../lib/queue/job';
import { sqsJobQueue } from '../../lib/queue/sqs-job-queue';
import { startLocalStack } from '../../sandbox/local-stack';
import { LOCAL_AWS_CREDENTIALS, type SqsPeer, startSqsPeer } from '../../sandbox/peers/sqs-peer';
import { type SsmPeer, startSsmPeer } from '../../sandbox/peers/ssm-peer';
import { toSqsEvent } from '../../sandbox/sqs-event';
import { PackagedFunction } from '../support/packaged-function';
import {
  type CfnResource,
  type CfnTemplate,
  envVariablesOfServerlessYml,
  PROJECT_ROOT,
  packageService,
  printService,
  SECRET_VARIABLES,
} from '../support/serverless-package';
import { BOT_USER, functionUrlEvent, mention, SECRET } from '../support/slack-events';

/**
 * The deployable artifact, checked offline: `serverless package` runs once, then the template
 * it wrote is checked against the AWS and Slack contracts the code relies on, and the zips are
 * unpacked and run as the Lambda runtime would run them.
 */

// As on a fresh clone: no secret set (packageService removes them from the environment).
const PACKAGE_ENV = {};
const PARAMETER_PATH = '/slack-gpt-bot/ci/';
/** `arn:${AWS::Partition}:ssm:…:parameter/slack-gpt-bot/ci/NAME`, as the roles name it. */
const parameterArn = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${PARAMETER_PATH}${name}`,
});

let dir: string;
let template: CfnTemplate;
let scratch: string;

beforeAll(async () => {
  ({ dir, template } = await packageService({ stage: 'ci', region: 'eu-west-1', env: PACKAGE_ENV }));
  scratch = mkdtempSync(path.join(tmpdir(), 'packaged-'));
}, 120_000);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Every resource of a CloudFormation type, as `[logicalId, resource]`. */
function resourcesOfType(type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}
/** The resource with this logical id, or a failure listing the ids there are. */
function resource(logicalId: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no ${logicalId} in the template; it has ${Object.keys(template.Resources)}`);
  return found;
}
const getAtt = (logicalId: string, attribute: string) => ({ 'Fn::GetAtt': [logicalId, attribute] });
const ref = (logicalId: string) => ({ Ref: logicalId });

interface FunctionProps {
  Handler: string;
  Runtime: string;
  Architectures: string[];
  Timeout: number;
  MemorySize: number;
  Role: unknown;
  Environment: { Variables: Record<string, unknown> };
  Code: { S3Key: string };
}
const fn = (name: 'Ingress' | 'Worker') =>
  resource(`${name}LambdaFunction`).Properties as unknown as FunctionProps;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
/** Every statement of every inline policy of a role. */
function roleStatements(roleLogicalId: string): Statement[] {
  const role = resource(roleLogicalId);
  expect(role.Type).toBe('AWS::IAM::Role');
  const policies = (role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>;
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat()).sort();

/** Every `Resource` value anywhere in the template (IAM, bucket and queue policies alike). */
function everyResourceField(node: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const item of node) everyResourceField(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Resource' || key === 'NotResource') found.push(value);
      everyResourceField(value, found);
    }
  }
  return found;
}

describe('serverless package, offline', () => {
  it('packages with no AWS credentials and no secret set into one zip per function', () => {
    // Assess
    expect(fn('Ingress').Code.S3Key).toMatch(/\/ingress\.zip$/);
    expect(fn('Worker').Code.S3Key).toMatch(/\/worker\.zip$/);
    expect(statSync(path.join(dir, 'ingress.zip')).size).toBeGreaterThan(0);
    expect(statSync(path.join(dir, 'worker.zip')).size).toBeGreaterThan(0);
  });

  it('declares a FIFO queue deduplicated by id only, redriving to a FIFO dead-letter queue', () => {
    // Prepare
    const queue = resource('JobsQueue').Properties;
    const dlq = resource('JobsDeadLetterQueue').Properties;
    const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    // Assess
    expect(queue).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false });
    expect(String(queue.QueueName)).toMatch(/\.fifo$/);
    expect(dlq).toMatchObject({ FifoQueue: true });
    expect(String(dlq.QueueName)).toMatch(/\.fifo$/);
    expect(redrive.deadLetterTargetArn).toEqual(getAtt('JobsDeadLetterQueue', 'Arn'));
    // AWS recommends at least 5 with a concurrency cap (throttled receives count).
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(modelCallsPerEvent(redrive.maxReceiveCount)).toBeLessThanOrEqual(MAX_MODEL_CALLS_PER_EVENT);
  });

  it('keeps the visibility timeout at least six times the worker timeout', () => {
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    const visibility = resource('JobsQueue').Properties.VisibilityTimeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * fn('Worker').Timeout);
  });

  it('feeds the worker from the queue with ReportBatchItemFailures, one record per invocation', () => {
    // Prepare
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping');
    // Assess
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      EventSourceArn: getAtt('JobsQueue', 'Arn'),
      FunctionName: getAtt('WorkerLambdaFunction', 'Arn'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      Enabled: true,
      // A flood waits in the queue instead of taking the account's concurrency.
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('reserves no concurrency by default (a new account’s quota of 10 would refuse it)', () => {
    // Assess
    expect(fn('Ingress')).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(fn('Worker')).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('takes the concurrency settings from --param', async () => {
    // Act
    const config = await printService({
      stage: 'ci',
      region: 'eu-west-1',
      env: PACKAGE_ENV,
      params: {
        ingressReservedConcurrency: '3',
        workerReservedConcurrency: '12',
        workerMaximumConcurrency: '12',
      },
    });
    // Assess
    const functions = config.functions as Record<
      string,
      { reservedConcurrency?: unknown; events: unknown[] }
    >;
    expect(functions.ingress!.reservedConcurrency).toBe(3);
    expect(functions.worker!.reservedConcurrency).toBe(12);
    expect(functions.worker!.events).toEqual([
      expect.objectContaining({ sqs: expect.objectContaining({ maximumConcurrency: 12 }) }),
    ]);
  }, 30_000);

  it('exposes only the ingress, through a Function URL with both permissions AWS requires', () => {
    // Prepare
    const urls = resourcesOfType('AWS::Lambda::Url');
    const permissions = resourcesOfType('AWS::Lambda::Permission').map(([, r]) => r.Properties);
    // Assess: Slack cannot sign AWS requests (AuthType NONE); the handler checks Slack's signature.
    expect(urls).toHaveLength(1);
    expect(urls[0]![1].Properties).toEqual({
      AuthType: 'NONE',
      TargetFunctionArn: getAtt('IngressLambdaFunction', 'Arn'),
    });
    // https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html (both since October 2025)
    expect(permissions).toEqual(
      expect.arrayContaining([
        {
          FunctionName: getAtt('IngressLambdaFunction', 'Arn'),
          Action: 'lambda:InvokeFunctionUrl',
          Principal: '*',
          FunctionUrlAuthType: 'NONE',
        },
        {
          FunctionName: getAtt('IngressLambdaFunction', 'Arn'),
          Action: 'lambda:InvokeFunction',
          Principal: '*',
          InvokedViaFunctionUrl: true,
        },
      ]),
    );
    expect(permissions).toHaveLength(2);
  });

  it('runs both functions on nodejs22.x arm64: a quick small ingress, a long-running worker', () => {
    for (const name of ['Ingress', 'Worker'] as const) {
      expect(fn(name)).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    }
    expect(fn('Ingress').Handler).toBe('handlers/ingress.handler');
    expect(fn('Worker').Handler).toBe('handlers/worker.handler');
    // Slack gives the ingress 3 s; the worker streams answers for up to two minutes.
    expect(fn('Ingress').Timeout).toBeLessThanOrEqual(10);
    expect(fn('Ingress').MemorySize).toBeLessThanOrEqual(256);
    expect(fn('Worker').Timeout).toBe(120);
    expect(fn('Worker').MemorySize).toBeGreaterThanOrEqual(512);
  });

  it('retains each function’s logs for a bounded time', () => {
    const groups = Object.fromEntries(
      resourcesOfType('AWS::Logs::LogGroup').map(([id, r]) => [id, r.Properties]),
    );
    expect(groups).toEqual({
      IngressLogGroup: { LogGroupName: '/aws/lambda/slack-gpt-bot-ci-ingress', RetentionInDays: 14 },
      WorkerLogGroup: { LogGroupName: '/aws/lambda/slack-gpt-bot-ci-worker', RetentionInDays: 14 },
    });
  });

  it('alarms as soon as the dead-letter queue holds a message', () => {
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm').map(([id]) => id);
    expect(alarms.sort()).toEqual(['DeadLetterQueueAlarm', 'FailureRateAlarm']);
    expect(resource('DeadLetterQueueAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('JobsDeadLetterQueue', 'QueueName') }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [ref('AlarmTopic')],
    });
  });

  it('alarms on the share of failed questions, from the worker’s EMF metrics', () => {
    // Prepare
    const alarm = resource('FailureRateAlarm').Properties;
    const metrics = alarm.Metrics as Array<{
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { Namespace: string; MetricName: string }; Stat: string };
    }>;
    // Assess
    expect(metrics.map((m) => m.MetricStat?.Metric)).toEqual([
      expect.objectContaining({ Namespace: 'SlackGptBot/ci', MetricName: 'Failures' }),
      expect.objectContaining({ Namespace: 'SlackGptBot/ci', MetricName: 'Answers' }),
      undefined,
    ]);
    expect(metrics[2]!.Expression).toContain(
      '100 * FILL(failures, 0) / (FILL(failures, 0) + FILL(answers, 0))',
    );
    expect(alarm).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [ref('AlarmTopic')],
    });
    expect(fn('Worker').Environment.Variables.METRICS_NAMESPACE).toBe('SlackGptBot/ci');
  });

  it('has a dashboard of every metric the worker writes', () => {
    // Prepare: the body as CloudFormation will substitute it.
    const [body, vars] = (
      resource('Dashboard').Properties.DashboardBody as { 'Fn::Sub': [string, { Namespace: string }] }
    )['Fn::Sub'];
    const json = body.replace(/\$\{AWS::Region\}/g, 'eu-west-1').replace(/\$\{Namespace\}/g, vars.Namespace);
    // Act
    const dashboard = JSON.parse(json) as { widgets: unknown[] };
    // Assess
    expect(vars.Namespace).toBe('SlackGptBot/ci');
    for (const name of Object.values(METRIC)) expect(json).toContain(name);
    expect(dashboard.widgets.length).toBeGreaterThanOrEqual(6);
  });

  it('puts no secret in the template: the functions get only the parameter path', () => {
    // Prepare
    const text = JSON.stringify(template);
    const environments = [fn('Ingress').Environment.Variables, fn('Worker').Environment.Variables];
    // Assess: nothing reads a secret at deploy time, so none can reach the template.
    expect(envVariablesOfServerlessYml().filter((name) => SECRET_VARIABLES.includes(name))).toEqual([]);
    expect(readFileSync(path.join(PROJECT_ROOT, 'serverless.yml'), 'utf8')).not.toMatch(/\$\{ssm:/);
    for (const variables of environments) {
      expect(Object.keys(variables).filter((name) => SECRET_VARIABLES.includes(name))).toEqual([]);
      expect(variables.SECRETS_PARAMETER_PATH).toBe(PARAMETER_PATH);
    }
    expect(text).not.toMatch(/xoxb-|xapp-|sk-[A-Za-z0-9]/);
  });

  it('gives each function its own role with only the actions it calls, on our own ARNs', () => {
    // Prepare
    const ingress = roleStatements('IngressRole');
    const worker = roleStatements('WorkerRole');
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    // Assess: the function → role wiring, then exactly these actions on exactly these resources.
    expect(fn('Ingress').Role).toEqual(getAtt('IngressRole', 'Arn'));
    expect(fn('Worker').Role).toEqual(getAtt('WorkerRole', 'Arn'));
    expect(ingress).toEqual([
      { Effect: 'Allow', Action: logs, Resource: getAtt('IngressLogGroup', 'Arn') },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('JobsQueue', 'Arn') },
      // Its own secrets only; no kms:Decrypt (the AWS managed aws/ssm key grants it in the account).
      // The three after the signing secret are read only in distribution mode.
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameters',
        Resource: [
          'SLACK_SIGNING_SECRET',
          'SLACK_CLIENT_SECRET',
          'SLACK_STATE_SECRET',
          'TOKEN_ENCRYPTION_KEY',
        ].map(parameterArn),
      },
      // Distribution mode: the installation look-up, saves, used install states, uninstalls.
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: getAtt('InstallationsTable', 'Arn'),
      },
    ]);
    expect(worker).toEqual([
      { Effect: 'Allow', Action: logs, Resource: getAtt('WorkerLogGroup', 'Arn') },
      {
        Effect: 'Allow',
        // Receive/Delete/GetQueueAttributes: the event source mapping; ChangeMessageVisibility: retry sooner.
        Action: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ChangeMessageVisibility',
        ],
        Resource: getAtt('JobsQueue', 'Arn'),
      },
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameters',
        Resource: [
          'SLACK_BOT_TOKEN',
          'OPENAI_API_KEY',
          'MOMENTO_API_KEY',
          'SLACK_CLIENT_SECRET',
          'TOKEN_ENCRYPTION_KEY',
          'MCP_SERVERS',
        ].map(parameterArn),
      },
      // Distribution mode: each job's installation, and its token refresh under a conditional lease.
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: getAtt('InstallationsTable', 'Arn'),
      },
      // MCP header values kept as SecureStrings, under the stack's own mcp/ folder only.
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameterArn('mcp/*') },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameterArn('CHANNEL_SETTINGS') },
    ]);
    for (const roleId of ['IngressRole', 'WorkerRole']) {
      expect(resource(roleId).Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('has no IAM role, policy or wildcard beyond those two roles, and no Resource "*" anywhere', () => {
    // Prepare
    const iam = Object.entries(template.Resources)
      .filter(([, r]) => r.Type.startsWith('AWS::IAM::'))
      .map(([id]) => id)
      .sort();
    const resources = everyResourceField(template.Resources).flat();
    const actions = [...actionsOf(roleStatements('IngressRole')), ...actionsOf(roleStatements('WorkerRole'))];
    // Assess (osls's default role, with its own statements, would appear here as IamRoleLambdaExecution)
    expect(iam).toEqual(['IngressRole', 'WorkerRole']);
    expect(resources).not.toContain('*');
    expect(resources.length).toBeGreaterThan(0);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('sets every deployable variable of .env.example, and the worker’s limits agree with the queue', () => {
    // Prepare: what .env.example documents, minus what only local runs use or Lambda sets itself.
    const documented = [
      ...readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm),
    ].map((m) => m[1]!);
    const notDeployed = new Set([
      'SLACK_APP_TOKEN', // Socket Mode, `npm run dev` only
      'MOMENTO_LOCAL_ENDPOINT', // the local Momento peer
      'AWS_REGION', // set by Lambda (reserved)
      'AWS_ENDPOINT_URL_SQS', // a local SQS peer
      'AWS_ENDPOINT_URL_SSM', // a local SSM peer
      'AWS_ENDPOINT_URL_DYNAMODB', // a local DynamoDB (distribution mode)
      ...SECRET_VARIABLES, // read from Parameter Store at cold start (SECRETS_PARAMETER_PATH)
      'AWS_ACCESS_KEY_ID', // the function's role
      'AWS_SECRET_ACCESS_KEY',
    ]);
    const ingressEnv = fn('Ingress').Environment.Variables;
    const workerEnv = fn('Worker').Environment.Variables;
    const deployed = new Set([...Object.keys(ingressEnv), ...Object.keys(workerEnv)]);
    const redrive = resource('JobsQueue').Properties.RedrivePolicy as { maxReceiveCount: number };
    // Assess
    expect(documented.filter((name) => !notDeployed.has(name) && !deployed.has(name))).toEqual([]);
    // The ingress carries where its secret is and nothing of the worker's.
    expect(Object.keys(ingressEnv).sort()).toEqual(
      [
        'NODE_OPTIONS',
        'PARAMETERS_MAX_AGE_SECONDS',
        'POWERTOOLS_LOG_LEVEL',
        'QUEUE_URL',
        'SECRETS_PARAMETER_PATH',
        'SLACK_BOT_USER_ID',
        // Distribution mode (SLACK_CLIENT_ID set): install routes and the installation look-up.
        'SLACK_CLIENT_ID',
        'INSTALLATIONS_TABLE',
        'SLACK_API_URL',
      ].sort(),
    );
    expect(ingressEnv).toMatchObject({ QUEUE_URL: ref('JobsQueue') });
    expect(workerEnv).toMatchObject({
      CHANNEL_SETTINGS_PARAMETER: `${PARAMETER_PATH}CHANNEL_SETTINGS`,
      QUEUE_MAX_RECEIVE_COUNT: String(redrive.maxReceiveCount),
    });
    // The worker takes its queue from the records' ARN, so invoke local needs no deployed stack.
    expect(workerEnv.QUEUE_URL).toBeUndefined();
    expect(Number(workerEnv.OPENAI_TIMEOUT_MS)).toBeLessThan(fn('Worker').Timeout * 1000);
    // Unset optional variables stay empty (lib/config.ts treats empty as unset).
    expect(workerEnv.SLACK_API_URL).toBe('');
    expect(workerEnv.MOMENTO_LOCAL_ENDPOINT).toBeUndefined();
  });

  it('outputs the Function URL to paste into Slack and the queue URL', () => {
    expect(template.Outputs.SlackRequestUrl?.Value).toEqual(
      getAtt('IngressLambdaFunctionUrl', 'FunctionUrl'),
    );
    expect(template.Outputs.QueueUrl?.Value).toEqual(ref('JobsQueue'));
    expect(template.Outputs.DeadLetterQueueUrl?.Value).toEqual(ref('JobsDeadLetterQueue'));
  });
});

describe('the packaged bundles', () => {
  let ingress: PackagedFunction;
  let worker: PackagedFunction;
  let peer: SqsPeer;
  let ssm: SsmPeer;

  beforeAll(async () => {
    ingress = new PackagedFunction(
      path.join(dir, 'ingress.zip'),
      path.join(scratch, 'ingress'),
      fn('Ingress').Handler,
    );
    worker = new PackagedFunction(
      path.join(dir, 'worker.zip'),
      path.join(scratch, 'worker'),
      fn('Worker').Handler,
    );
    [peer, ssm] = await Promise.all([startSqsPeer(), startSsmPeer()]);
  });
  afterAll(() => Promise.all([peer?.close(), ssm?.close()]));

  it.each([
    ['ingress', () => ingress],
    ['worker', () => worker],
  ])('%s: one minified JS bundle with a linked source map, no sources, no node_modules', (name, get) => {
    // Prepare
    const packaged = get();
    const code = packaged.files.get(`handlers/${name}.js`)?.toString('utf8') ?? '';
    const map = JSON.parse(packaged.files.get(`handlers/${name}.js.map`)?.toString('utf8') ?? '{}') as {
      names?: string[];
    };
    // Assess: the worker also carries the tokenizer's ranks beside its bundle (esbuild-plugins.js).
    expect([...packaged.files.keys()].sort()).toEqual(
      name === 'worker'
        ? ['handlers/worker.js', 'handlers/worker.js.map', 'handlers/worker.js.o200k.json']
        : [`handlers/${name}.js`, `handlers/${name}.js.map`],
    );
    expect(code).toMatch(new RegExp(`//# sourceMappingURL=${name}\\.js\\.map\\s*$`));
    // Minified: our own functions are declared under short names; the source map has the real ones
    // (keepNames keeps each as a string for `.name` only).
    const ownName = name === 'ingress' ? 'createIngressHandler' : 'createWorkerHandler';
    expect(map.names).toContain(ownName);
    expect(code).not.toContain(`function ${ownName}(`);
    expect(code).toContain(`"${ownName}")`);
  });

  it.each([
    ['ingress', () => ingress],
    ['worker', () => worker],
  ])('%s: requires nothing but Node built-ins and the runtime’s AWS SDK', (name, get) => {
    // Prepare
    const code = get().files.get(`handlers/${name}.js`)!.toString('utf8');
    // Not `'require("ajv/dist/runtime/…")'` in quotes or backticks: ajv (in the MCP SDK) keeps such
    // strings for code it generates as source text, never calls them.
    const required = [...code.matchAll(/(?<!['`])\brequire\("([^"]+)"\)/g)].map((m) => m[1]!);
    const builtins = new Set(builtinModules);
    // Assess
    const outside = [...new Set(required)].filter((m) => !builtins.has(m.replace(/^node:/, '')));
    expect(outside.filter((m) => !m.startsWith('@aws-sdk/'))).toEqual([]);
  });

  it('ingress: carries none of the worker’s dependencies', () => {
    // Prepare
    const map = JSON.parse(ingress.files.get('handlers/ingress.js.map')!.toString('utf8')) as {
      sources: string[];
    };
    // @slack/web-api is there for distribution mode's install routes (@slack/oauth), loaded on them only.
    const workerOnly = ['openai', '@gomomento', 'gpt-tokenizer', '@grpc', 'lib/worker/'];
    // Assess
    expect(map.sources.length).toBeGreaterThan(0);
    expect(map.sources.filter((s) => workerOnly.some((w) => s.includes(w)))).toEqual([]);
  });

  it('ingress: with its secret from Parameter Store, answers a signed url_verification and queues a signed mention', async () => {
    // Prepare: the packaged environment, with the stack's queue, SSM and AWS replaced by local peers.
    const queue = peer.createFifoQueue('packaged-ingress');
    ssm.put(`${PARAMETER_PATH}SLACK_SIGNING_SECRET`, SECRET);
    const env = ingressEnvironment(queue.queueUrl, peer.endpoint, ssm.endpoint);
    const body = mention({ text: `<@${BOT_USER}> 日本語で 🚀 please` });
    // Act
    const { handlerType, results } = await ingress.invoke(env, [
      functionUrlEvent({ type: 'url_verification', challenge: 'packaged-challenge', token: 't' }),
      functionUrlEvent(body),
    ]);
    // Assess
    expect(handlerType).toBe('function');
    const [verification, queued] = results as Array<{ statusCode: number; body?: string }>;
    expect(verification?.statusCode).toBe(200);
    expect(JSON.parse(verification?.body ?? '{}')).toEqual({ challenge: 'packaged-challenge' });
    expect(queued?.statusCode).toBe(200);
    const received = await peer.client().send(
      new ReceiveMessageCommand({
        QueueUrl: queue.queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageDeduplicationId'],
      }),
    );
    expect(received.Messages).toHaveLength(1);
    const [message] = received.Messages!;
    expect(message?.Attributes?.MessageDeduplicationId).toBe(body.event_id);
    expect(decodeJob(message!.Body!)).toMatchObject({
      eventId: body.event_id,
      text: `<@${BOT_USER}> 日本語で 🚀 please`,
    });
  });

  it('ingress: its logs name an error by its class, as the code does (the bundle keeps names)', async () => {
    // Prepare: SQS unreachable, so the signed mention cannot be queued and its error is logged.
    ssm.put(`${PARAMETER_PATH}SLACK_SIGNING_SECRET`, SECRET);
    const env = ingressEnvironment(
      'http://127.0.0.1:9/000000000000/closed.fifo',
      'http://127.0.0.1:9',
      ssm.endpoint,
    );
    // Act
    const { results, logs } = await ingress.invoke(env, [functionUrlEvent(mention({ text: 'hi' }))]);
    // Assess: Slack is asked to retry, and the log says which error, by the name the code gives it
    // (minified without keepNames it would be a letter, and so would every metric's `reason`).
    expect(results).toMatchObject([{ statusCode: 503 }]);
    const logged = logs.map((l) => JSON.parse(l) as { message?: string; error?: { name?: string } });
    const notQueued = logged.find((l) => l.message === 'event not queued; Slack will retry');
    expect(notQueued?.error?.name).toBe('QueueSendError');
  });

  it('worker: loads its packaged configuration, with its keys from Parameter Store, and exports a handler', async () => {
    // Prepare: the packaged environment; Momento's key swapped for the local endpoint, since
    // the SDK validates a real key at cold start.
    ssm.put(`${PARAMETER_PATH}SLACK_BOT_TOKEN`, 'xoxb-from-parameter-store');
    ssm.put(`${PARAMETER_PATH}OPENAI_API_KEY`, 'sk-from-parameter-store');
    const env = {
      ...packagedEnvironment('Worker'),
      MOMENTO_LOCAL_ENDPOINT: '127.0.0.1:9',
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/q.fifo',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    };
    // Act
    const { handlerType } = await worker.invoke(env, [{ Records: [] }]);
    // Assess: the empty batch ran on the built handler, which needed the parameters.
    expect(handlerType).toBe('function');
    expect(ssm.calls.filter((c) => c.operation === 'GetParameters').at(-1)?.body).toEqual({
      // Not MOMENTO_API_KEY: the local endpoint set here replaces it, so it is not read.
      // MCP_SERVERS: optional, read along with them.
      Names: [
        `${PARAMETER_PATH}SLACK_BOT_TOKEN`,
        `${PARAMETER_PATH}OPENAI_API_KEY`,
        `${PARAMETER_PATH}MCP_SERVERS`,
      ],
      WithDecryption: true,
    });
  });

  it('worker: answers a queued mention against the Slack, OpenAI and Momento peers', async () => {
    // Prepare: the local peers; the packaged environment pointed at them.
    const stack = await startLocalStack();
    try {
      const ts = '1700003000.000100';
      stack.slack.seedMessage({ channel: 'C0GENERAL', ts, user: 'U0ASKER', text: 'What is a FIFO queue?' });
      stack.openai!.setAnswer('A FIFO queue keeps order: first in, first out.');
      const job: AnswerJob = {
        v: 1,
        eventId: `EvPACKAGED${Date.now()}`,
        teamId: 'T0LOCAL',
        channel: 'C0GENERAL',
        threadTs: ts,
        ts,
        user: 'U0ASKER',
        text: `<@${stack.slack.botUserId}> What is a FIFO queue?`,
        isDm: false,
        receivedAt: Date.now(),
      };
      const sqs = stack.sqs.client();
      await sqsJobQueue(sqs, stack.queue.queueUrl).enqueue(job);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queue.queueUrl, MessageSystemAttributeNames: ['All'] }),
      );
      const { MOMENTO_API_KEY: _key, ...packaged } = packagedEnvironment('Worker');
      const env = {
        ...packaged,
        ...Object.fromEntries(
          ['SLACK_BOT_TOKEN', 'SLACK_API_URL', 'SLACK_BOT_USER_ID', 'OPENAI_BASE_URL', 'OPENAI_API_KEY']
            .concat(['MOMENTO_LOCAL_ENDPOINT', 'QUEUE_URL', 'AWS_REGION', 'AWS_ENDPOINT_URL_SQS'])
            .map((k) => [k, stack.env[k]!]),
        ),
        SLACK_STREAMING: 'edit',
      };
      // Act
      const { results } = await worker.invoke(env, [toSqsEvent(Messages, stack.queue.queueArn)]);
      // Assess
      expect(results).toEqual([{ batchItemFailures: [] }]);
      const replies = stack.slack.thread('C0GENERAL', ts).filter((m) => m.user === stack.slack.botUserId);
      expect(replies.map((m) => m.text)).toEqual(['A FIFO queue keeps order: first in, first out.']);
    } finally {
      await stack.close();
    }
  });
});

/** The packaged ingress's environment, its queue, SSM and AWS pointed at local endpoints. */
function ingressEnvironment(
  queueUrl: string,
  sqsEndpoint: string,
  ssmEndpoint: string,
): Record<string, string> {
  return {
    ...packagedEnvironment('Ingress'),
    QUEUE_URL: queueUrl,
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_ENDPOINT_URL_SSM: ssmEndpoint,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
  };
}

/** A function's environment from the template, with the values `serverless package` could resolve. */
function packagedEnvironment(name: 'Ingress' | 'Worker'): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fn(name).Environment.Variables).filter(
      (e): e is [string, string] => typeof e[1] === 'string',
    ),
  );
}
