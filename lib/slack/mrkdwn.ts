import slackifyMarkdown from 'slackify-markdown';

/**
 * Slack does not render Markdown in `text`; it renders its own "mrkdwn"
 * (https://api.slack.com/reference/surfaces/formatting). Models answer in Markdown.
 */
export function toMrkdwn(markdown: string): string {
  if (markdown.trim() === '') return '';
  return slackifyMarkdown(markdown).replace(/\n+$/, '');
}

/**
 * Slack truncates `text` past 40,000 characters and advises staying under 4,000 for best results
 * (https://api.slack.com/reference/methods/chat.postMessage#truncating), so long answers are
 * continued in further messages. Chosen below 4,000 to leave room for a status suffix.
 */
export const SLACK_MESSAGE_CHARS = 3_800;

const FENCE = '```';

/**
 * Splits mrkdwn into messages of at most `max` characters, at paragraph breaks where possible,
 * else at line breaks, else at spaces. A code block cut in two is closed at the end of one
 * message and reopened at the start of the next, so each message renders on its own.
 * No text is dropped: every line of the input appears, in order, in the output.
 */
export function splitMrkdwn(text: string, max: number = SLACK_MESSAGE_CHARS): string[] {
  if (text.length <= max) return [text];
  const budget = max - FENCE.length - 1; // room to close a fence
  const chunks: string[] = [];
  let lines: string[] = [];
  let length = 0;
  let openedInFence = false; // whether the current chunk started inside a fence

  const flush = (upTo: number) => {
    const taken = lines.slice(0, upTo);
    const rest = lines.slice(upTo);
    const fenceAtCut = taken.reduce((open, line) => (isFence(line) ? !open : open), openedInFence);
    let chunk = taken.join('\n');
    if (openedInFence) chunk = `${FENCE}\n${chunk}`;
    if (fenceAtCut) chunk = `${chunk}\n${FENCE}`;
    chunks.push(chunk.replace(/^\n+|\n+$/g, ''));
    openedInFence = fenceAtCut;
    lines = rest;
    length = lineLength(rest) + (openedInFence ? FENCE.length + 1 : 0);
  };

  for (const line of splitLongLine(text.split('\n'), budget - FENCE.length - 1)) {
    if (lines.length > 0 && length + line.length + 1 > budget) {
      // Prefer the last paragraph break in the second half of the chunk.
      let cut = lines.length;
      for (let i = lines.length - 1; i > lines.length / 2; i--) {
        if (lines[i] === '' && !inFenceAt(lines, i, openedInFence)) {
          cut = i;
          break;
        }
      }
      flush(cut);
      // What stayed behind after a paragraph cut may still leave no room for this line.
      if (lines.length > 0 && length + line.length + 1 > budget) flush(lines.length);
    }
    lines.push(line);
    length += line.length + 1;
  }
  if (lines.length > 0) flush(lines.length);
  return chunks.filter((c) => c !== '' && c !== `${FENCE}\n${FENCE}`);
}

function isFence(line: string): boolean {
  return line.trimStart().startsWith(FENCE);
}

function inFenceAt(lines: string[], index: number, startsInFence: boolean): boolean {
  let open = startsInFence;
  for (let i = 0; i < index; i++) if (isFence(lines[i]!)) open = !open;
  return open;
}

function lineLength(lines: string[]): number {
  return lines.reduce((sum, l) => sum + l.length + 1, 0);
}

/**
 * Breaks lines longer than `max` at the last space before the limit, dropping that one space,
 * or hard when there is none, never between the two halves of a surrogate pair (an emoji).
 */
function* splitLongLine(lines: string[], max: number): Generator<string> {
  for (let line of lines) {
    while (line.length > max) {
      const space = line.lastIndexOf(' ', max);
      if (space >= max / 2) {
        yield line.slice(0, space);
        line = line.slice(space + 1);
        continue;
      }
      const code = line.charCodeAt(max - 1);
      const cut = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
      yield line.slice(0, cut);
      line = line.slice(cut);
    }
    yield line;
  }
}
