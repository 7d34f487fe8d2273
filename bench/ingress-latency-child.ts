import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ingressSqsClient } from '../lib/queue/sqs-job-queue';
import { lambdaContext } from '../sandbox/lambda-context';
import { LOCAL_AWS_CREDENTIALS, startSqsPeer } from '../sandbox/peers/sqs-peer';
import { BOT_USER, functionUrlEvent, mention, SECRET } from '../test/support/slack-events';
import { SQS_ONLY } from './ingress-latency';

/**
 * One warm-latency run (`npm run bench`, figure 3), in a process of its own: an in-process SQS
 * (fauxqs), then a bundled ingress (`argv[2]`) required and invoked in this process with signed
 * mentions, one after another, each timed from the call to the returned response. The first
 * `warmup` calls are not timed. With `sqs-only` instead of a bundle, each call is only the SQS send
 * both ingresses make (same client settings): the floor under either. Logs go where the parent sends stdout (nowhere); the samples go
 * back over IPC.
 *
 * Usage (by bench/ingress-latency.ts): node --import tsx bench/ingress-latency-child.ts <bundle> <count> <warmup>
 */
type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** What the child sends back. */
export interface LatencyRunResult {
  samples: number[];
  /** Messages found on the queue afterwards: every call must have queued one. */
  queued: number;
  failures: number;
}

/** A "handler" that only sends the message: what every ingress here must at least do. */
function sqsOnly(): { handler: Handler } {
  // The ingress's own client settings (lib/queue/sqs-job-queue.ts).
  const sqs = ingressSqsClient();
  return {
    handler: async (event) => {
      const body = JSON.parse(event.body ?? '{}') as { event_id: string; event: { ts: string } };
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: process.env.QUEUE_URL,
          MessageBody: event.body ?? '',
          MessageGroupId: body.event.ts,
          MessageDeduplicationId: body.event_id,
        }),
      );
      return { statusCode: 200 };
    },
  };
}

async function main(): Promise<void> {
  const [file, countArg, warmupArg] = process.argv.slice(2);
  const count = Number(countArg);
  const warmup = Number(warmupArg);
  const peer = await startSqsPeer();
  const queue = peer.createFifoQueue('bench-ingress');
  Object.assign(process.env, {
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_BOT_USER_ID: BOT_USER,
    QUEUE_URL: queue.queueUrl,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SQS: peer.endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
  });
  const { handler } =
    file === SQS_ONLY ? sqsOnly() : (createRequire(__filename)(file!) as { handler: Handler });
  const samples: number[] = [];
  let failures = 0;
  for (let i = 0; i < warmup + count; i++) {
    const event = functionUrlEvent(mention());
    // A context per invocation, as Lambda gives: middy times out on its remaining time.
    const context = lambdaContext('ingress', 5_000);
    const started = performance.now();
    const response = await handler(event, context);
    const ms = performance.now() - started;
    if (response.statusCode !== 200) failures++;
    if (i >= warmup) samples.push(ms);
  }
  const { ready, inflight, delayed } = peer.countMessages(queue.queueName);
  const result: LatencyRunResult = { samples, queued: ready + inflight + delayed, failures };
  process.send!(result);
  await peer.close();
  process.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
