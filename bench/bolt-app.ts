import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, AwsLambdaReceiver } from '@slack/bolt';

/**
 * The comparison app of `npm run bench`: what users would otherwise deploy. The standard Bolt
 * pattern on Lambda (`AwsLambdaReceiver`, one `app_mention` listener that hands the work to a
 * queue, the JavaScript form of a "lazy listener"), doing the same SQS FIFO send as our ingress,
 * with the same SQS client settings, so only the framework differs.
 *
 * `botId`/`botUserId` are given, so Bolt never calls `auth.test` (there is no network here; a real
 * deploy would call it once per cold start, which only makes Bolt slower).
 */
const receiver = new AwsLambdaReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '' });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN ?? 'xoxb-bench',
  botId: 'B0LOCAL',
  botUserId: process.env.SLACK_BOT_USER_ID ?? 'UBOT0LOCAL',
  receiver,
});
const sqs = new SQSClient({
  maxAttempts: 2,
  useQueueUrlAsEndpoint: false,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
});

app.event('app_mention', async ({ event, body }) => {
  const threadTs = event.thread_ts ?? event.ts;
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.QUEUE_URL,
      MessageBody: JSON.stringify({
        eventId: body.event_id,
        teamId: body.team_id,
        channel: event.channel,
        threadTs,
        ts: event.ts,
        user: event.user,
        text: event.text,
      }),
      MessageGroupId: `${body.team_id}:${event.channel}:${threadTs}`,
      MessageDeduplicationId: body.event_id,
    }),
  );
});

type BoltHandler = Awaited<ReturnType<AwsLambdaReceiver['start']>>;

/** Lambda entry point, as Bolt's documentation writes it (Bolt 5 handlers take two arguments). */
export const handler = async (...args: Parameters<BoltHandler>): ReturnType<BoltHandler> => {
  const boltHandler = await receiver.start();
  return boltHandler(...args);
};
