/**
 * Where a long answer may be cut into Slack messages without breaking what it shows: at a
 * paragraph break where there is one, else at a line break, else at a space that is not inside an
 * inline format (`code`, a link, bold, italics, strike) — never inside a word, and never between the
 * two halves of an emoji. A code block cut in two is closed at the end of one message and reopened
 * (with its language) at the start of the next, so each message renders on its own. The same rules
 * serve Markdown (native streams) and Slack's mrkdwn (the edit path): fences and inline formats
 * look alike in both.
 */

const FENCE = '```';

/** A place to cut `text`: the first message ends at `end`. */
export interface Cut {
  end: number;
  /** No break was found: the cut falls inside a run of text without spaces. */
  hard?: boolean;
  /** Only a space inside an inline format or a link was found: the cut splits it. */
  loose?: boolean;
  /** The cut falls inside a code block: close it after the first part, reopen it with this line. */
  reopen?: string;
}

/**
 * Splits `text` into messages of at most `max` characters, by the rules above. No line is lost:
 * joining the messages at line breaks gives the text back, but for the fences added at the cuts
 * and the break at a paragraph or space cut.
 */
export function splitMessage(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text;
  let prefix = '';
  for (;;) {
    const body = prefix + rest;
    if (body.length <= max) {
      parts.push(body);
      break;
    }
    // Room for the fence that closes a code block cut in two.
    const cut = bestCut(body, prefix.length, max - FENCE.length - 1);
    // Always progress, even with a limit shorter than a reopened fence line.
    if (cut.end <= prefix.length) cut.end = Math.min(body.length, Math.max(prefix.length + 1, max));
    const head = body.slice(0, cut.end).replace(/\s+$/, '');
    parts.push(cut.reopen ? `${head}\n${FENCE}` : head);
    rest = body.slice(cut.end).replace(/^\n+/, '');
    prefix = cut.reopen ? `${cut.reopen}\n` : '';
  }
  // A cut right after a fence's opening line leaves a part with nothing inside its fences.
  return parts.filter((p) =>
    p.split('\n').some((line) => line.trim() !== '' && !line.trimStart().startsWith(FENCE)),
  );
}

/**
 * The best place to end a message of `text` at or before `limit`, after `from` (what the message
 * already shows, which cannot be taken back). Prefers a paragraph break in the second half of the
 * room, then a line break, then a space outside inline formats; cuts a line with no such space
 * hard, and never between the halves of an emoji.
 */
export function bestCut(text: string, from: number, limit: number): Cut {
  const end = Math.min(limit, text.length);
  if (end <= from) return cutAt(text, from);
  const half = from + (end - from) / 2;
  let paragraph = -1;
  let line = -1;
  let space = -1;
  let anySpace = -1;
  for (let i = end; i > from; i--) {
    const c = text[i - 1];
    if (c === '\n') {
      if (line < 0) line = i;
      if (text[i - 2] === '\n' && paragraph < 0 && i > half) paragraph = i;
    } else if (c === ' ' && (space < 0 || anySpace < 0)) {
      if (anySpace < 0) anySpace = i;
      if (space < 0 && !inlineOpen(text, i - 1)) space = i;
    }
    if (paragraph >= 0) break;
  }
  if (paragraph >= 0) return cutAt(text, paragraph);
  if (line > half || (line >= 0 && space < 0)) return cutAt(text, line);
  if (space >= 0) return cutAt(text, space);
  if (anySpace >= 0) return { ...cutAt(text, anySpace), loose: true };
  // No break at all: a hard cut, never between the two halves of a surrogate pair (an emoji).
  const code = text.charCodeAt(end - 1);
  return { ...cutAt(text, code >= 0xd800 && code <= 0xdbff ? end - 1 : end), hard: true };
}

/**
 * The last place at or after `from` where `text` may stop for now without breaking anything (the
 * end of a line, or a space outside inline formats), or `from` when there is none: a message near
 * its limit sends only this much, so that it always ends where it could be cut.
 */
export function safeEnd(text: string, from: number): number {
  for (let i = text.length; i > from; i--) {
    const c = text[i - 1];
    if (c === '\n' || (c === ' ' && !inlineOpen(text, i - 1))) return i;
  }
  return from;
}

/** A cut at `end`, with the fence line to reopen when it falls inside a code block. */
export function cutAt(text: string, end: number): Cut {
  const fence = openFence(text.slice(0, end));
  return fence === undefined ? { end } : { end, reopen: fence };
}

/** The opening line of the code block `text` ends inside, if any (its language kept). */
export function openFence(text: string): string | undefined {
  let open: string | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trimStart();
    // A fence is a line of its own: ```lang opens, ``` closes; ```code``` on one line is inline.
    if (!trimmed.startsWith(FENCE) || trimmed.slice(FENCE.length).includes(FENCE)) continue;
    open = open === undefined ? trimmed : undefined;
  }
  return open;
}

/** Inline formats whose markers must pair up on a line (longer markers first). */
const PAIRED = ['**', '__', '~~', '*', '_', '~'];

/**
 * Whether position `i` of `text` (a space) lies inside an inline format of its line: an odd number
 * of backticks before it, an unclosed link (`[…`, `](…`, `<…`), or an emphasis marker opened
 * (before a non-space) and not closed (after a non-space).
 */
function inlineOpen(text: string, i: number): boolean {
  const start = text.lastIndexOf('\n', i - 1) + 1;
  const line = text.slice(start, i);
  if ((line.match(/`/g) ?? []).length % 2 === 1) return true;
  if (line.lastIndexOf('[') > line.lastIndexOf(']')) return true;
  if (line.lastIndexOf('](') > line.lastIndexOf(')')) return true;
  if (line.lastIndexOf('<') > line.lastIndexOf('>')) return true;
  let plain = line.replace(/`[^`]*`/g, '');
  for (const marker of PAIRED) {
    let depth = 0;
    let j = plain.indexOf(marker);
    while (j >= 0) {
      const before = plain[j - 1];
      const after = plain[j + marker.length];
      const opens =
        (before === undefined || /[\s([{"'>]/.test(before)) && after !== undefined && after !== ' ';
      const closes =
        before !== undefined && before !== ' ' && (after === undefined || /[\s)\]}.,;:!?"'<]/.test(after));
      if (opens && !closes) depth++;
      else if (closes && depth > 0) depth--;
      j = plain.indexOf(marker, j + marker.length);
    }
    if (depth > 0) return true;
    // Shorter markers are counted without the longer ones made of them (`*` without `**`).
    plain = plain.split(marker).join('x'.repeat(marker.length));
  }
  return false;
}
