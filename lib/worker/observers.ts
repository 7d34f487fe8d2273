import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SlackCallError } from '../errors';
import { recordSlackRateLimited, recordStreamingPath } from '../metrics';
import type { AnswerReply } from '../reply/answer-reply';
import type { ReplyOpener } from '../reply/open-reply';

/**
 * Counts Slack's 429s on every method of a port (whatever its shape) and rethrows them unchanged:
 * the metric counts what Slack refused, whichever write it was.
 */
export function observeRateLimits<T extends object>(port: T, metrics: Metrics): T {
  const observed = { ...port } as Record<string, unknown>;
  for (const [name, value] of Object.entries(port)) {
    if (typeof value !== 'function') continue;
    observed[name] = async (...args: unknown[]) => {
      try {
        return await (value as (...a: unknown[]) => Promise<unknown>).apply(port, args);
      } catch (error) {
        if (error instanceof SlackCallError && error.slackError === 'ratelimited') {
          recordSlackRateLimited(metrics, error.method);
        }
        throw error;
      }
    };
  }
  return observed as T;
}

/** Counts each answer written to Slack by the path that showed it (native stream or edits). */
export function observeReplyPaths(opener: ReplyOpener, metrics: Metrics): ReplyOpener {
  return {
    async open(target, resume, context) {
      const reply = await opener.open(target, resume, context);
      return observedReply(reply, { finished: () => recordStreamingPath(metrics, reply.path) });
    },
  };
}

/**
 * `reply` as it is, telling `hooks` when its feedback was shown (`open` done) and when it finished
 * (`finish` done; before: `finishing`). For metrics and benchmarks: nothing about the reply changes.
 */
export function observedReply(
  reply: AnswerReply,
  hooks: { opened?: () => void; finishing?: () => void; finished?: () => void },
): AnswerReply {
  return {
    get path() {
      return reply.path;
    },
    get messageTs() {
      return reply.messageTs;
    },
    get writes() {
      return reply.writes;
    },
    get stopped() {
      return reply.stopped;
    },
    async open() {
      await reply.open();
      hooks.opened?.();
    },
    show: (markdown) => reply.show(markdown),
    step: (update) => reply.step(update),
    abandon: () => reply.abandon(),
    async finish(markdown, options) {
      hooks.finishing?.();
      await reply.finish(markdown, options);
      hooks.finished?.();
    },
  };
}
