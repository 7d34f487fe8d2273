import { bestCut, cutAt, safeEnd } from '../slack/message-split';

/**
 * How much of a streamed answer goes into one stream message. A message takes about 12,000
 * characters (`markdown_text` limit, and the stream's total as seen on Slack): {@link STREAM_MESSAGE_CHARS}
 * keeps room for a closing notice. Within {@link STREAM_HOLD_CHARS} of that, a growing message only
 * takes text up to a place it could end (a line break, a space outside inline formats), so that when
 * it fills up it never ends inside a word, a format or a link; a full message is cut by the rules of
 * lib/slack/message-split.ts, a code block closed in it and reopened in the next.
 * https://docs.slack.dev/reference/methods/chat.appendStream
 */
export const STREAM_MESSAGE_CHARS = 11_500;
/** The last stretch of a message in which streaming writes stop only where the message could end. */
export const STREAM_HOLD_CHARS = 1_500;
/** Room kept for the fence that closes a code block cut in two. */
const FENCE_CLOSE = '\n```';

/** What one stream message takes of the text waiting to be written. */
export interface Fit {
  /** The text to add to the message (with a closing fence when a code block is cut). */
  piece: string;
  /** How many characters of the waiting text that uses up. */
  consumed: number;
  /** The message is full: stop it; the rest starts a new one. */
  full: boolean;
  /** What the next message starts with (a reopened code block), before the rest. */
  nextPrefix: string;
}

/**
 * What a message showing `shown` takes of `pending`, the text after it. `final`: the answer is
 * complete, so nothing is held back while it fits.
 */
export function fitInMessage(
  shown: string,
  pending: string,
  final: boolean,
  max = STREAM_MESSAGE_CHARS,
): Fit {
  const combined = shown + pending;
  const all = { piece: pending, consumed: pending.length, full: false, nextPrefix: '' };
  if (combined.length <= max && (final || combined.length <= max - STREAM_HOLD_CHARS)) return all;
  if (combined.length <= max) {
    const end = safeEnd(combined, shown.length);
    return {
      piece: combined.slice(shown.length, end),
      consumed: end - shown.length,
      full: false,
      nextPrefix: '',
    };
  }
  let cut = bestCut(combined, shown.length, max - FENCE_CLOSE.length);
  // A run without any break, or breaks only inside a format or a link: rather end the message where
  // it already could (it was held there).
  if ((cut.hard || cut.loose) && shown.length >= max - STREAM_HOLD_CHARS) cut = cutAt(combined, shown.length);
  let consumed = cut.end - shown.length;
  const piece = combined.slice(shown.length, cut.end);
  // The next message does not start with the blank lines of the cut.
  while (pending[consumed] === '\n') consumed++;
  return cut.reopen
    ? {
        piece: `${piece.replace(/\n$/, '')}${FENCE_CLOSE}`,
        consumed,
        full: true,
        nextPrefix: `${cut.reopen}\n`,
      }
    : { piece, consumed, full: true, nextPrefix: '' };
}
