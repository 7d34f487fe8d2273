import { TYPING_MARKER } from '../lib/reply/edit-reply';
import { PLACEHOLDER } from '../lib/worker/notices';
import type { SlackCall, SlackMessage, SlackPeer } from './peers/slack-peer';
import { type Style, styleFor } from './terminal';

/** Where the printer writes: `process.stdout` or anything shaped like it. */
export interface PrinterOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of {@link ThreadPrinter}. */
export interface ThreadPrinterOptions {
  out?: PrinterOutput;
  /** A title and a footer for a thread when it is printed (e.g. the event file and timings). */
  describe?: (channel: string, threadTs: string) => { title?: string; footer?: string } | undefined;
  /** Show one live line per thread being answered, redrawn in place. Default: when `out` is a TTY. */
  live?: boolean;
}

const WRITES = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.delete',
  'chat.startStream',
  'chat.appendStream',
  'chat.stopStream',
]);
/** Writes that create a message of the thread. */
const CREATES = new Set(['chat.postMessage', 'chat.startStream']);
const LIVE_REDRAW_MS = 80;

/**
 * Prints the local Slack peer's threads in the terminal as the bot answers: while an answer
 * streams, a live line per thread (on a TTY); once every bot message of the thread is final (no
 * placeholder, no typing marker), the whole thread, question and answer. It follows Slack calls
 * only, so it shows answers to anything: `npm start`'s events, a replay, `serverless invoke local`.
 */
export class ThreadPrinter {
  readonly #slack: SlackPeer;
  readonly #out: PrinterOutput;
  readonly #style: Style;
  readonly #live: boolean;
  readonly #describe: ThreadPrinterOptions['describe'];
  readonly #messageThread = new Map<string, { channel: string; threadTs: string }>();
  /** Threads with an answer in progress, by `channel/threadTs`. */
  readonly #active = new Map<string, { channel: string; threadTs: string }>();
  readonly #onCall = (call: SlackCall) => this.#call(call);
  #drawn = 0;
  #redraw: NodeJS.Timeout | undefined;

  constructor(slack: SlackPeer, options: ThreadPrinterOptions = {}) {
    this.#slack = slack;
    this.#out = options.out ?? process.stdout;
    this.#style = styleFor(this.#out);
    this.#live = options.live ?? this.#out.isTTY === true;
    this.#describe = options.describe;
    slack.on('call', this.#onCall);
  }

  /** Prints a line above the live lines. */
  log(line = ''): void {
    this.#clearLive();
    this.#out.write(`${line}\n`);
    this.#drawLive();
  }

  /** Stops following Slack and removes the live lines. */
  stop(): void {
    this.#slack.off('call', this.#onCall);
    clearTimeout(this.#redraw);
    this.#clearLive();
  }

  #call(call: SlackCall): void {
    if (!WRITES.has(call.method) || !call.response.ok) return;
    const channel = String(call.args.channel);
    const ts = String(call.response.ts ?? call.args.ts);
    let thread = this.#messageThread.get(`${channel}/${ts}`);
    if (!thread && CREATES.has(call.method)) {
      thread = { channel, threadTs: String(call.args.thread_ts ?? ts) };
      this.#messageThread.set(`${channel}/${ts}`, thread);
    }
    if (!thread) return;
    const key = `${thread.channel}/${thread.threadTs}`;
    const messages = this.#slack.thread(thread.channel, thread.threadTs);
    const unfinished = messages.some(
      (m) =>
        m.user === this.#slack.botUserId &&
        (m.text === PLACEHOLDER || m.text.endsWith(TYPING_MARKER) || m.streaming === 'in_progress'),
    );
    if (unfinished) {
      this.#active.set(key, thread);
      this.#scheduleLive();
      return;
    }
    if (!this.#active.delete(key) && !CREATES.has(call.method)) return;
    this.log(this.#render(thread.channel, thread.threadTs, messages));
  }

  #render(channel: string, threadTs: string, messages: SlackMessage[]): string {
    const s = this.#style;
    const about = this.#describe?.(channel, threadTs);
    const lines = [
      `${s.bold(s.cyan(`#${channel}`))} ${s.dim(`thread ${threadTs}`)}${about?.title ? `  ${s.bold(about.title)}` : ''}`,
    ];
    for (const m of messages) {
      const isBot = m.user === this.#slack.botUserId;
      const who = isBot ? s.green('bot'.padEnd(10)) : s.magenta(m.user.padEnd(10));
      // A stream's task cards show above its text, as Slack shows them (a plan: one block of them).
      const cards = (m.tasks ?? []).map((t) => {
        const mark = t.status === 'complete' ? '✓' : t.status === 'error' ? '✗' : '…';
        return `${m.taskDisplay === 'plan' ? '▤' : '▸'} ${mark} ${t.title}${t.output ? ` — ${t.output}` : ''}`;
      });
      const [first = '', ...rest] = [
        ...cards,
        ...(cards.length ? [''] : []),
        ...this.#text(m.text).split('\n'),
      ];
      lines.push(`${s.dim('│')} ${who} ${first}`.trimEnd());
      for (const line of rest) lines.push(`${s.dim('│')} ${' '.repeat(10)} ${line}`.trimEnd());
    }
    if (about?.footer) lines.push(`${s.dim('└')} ${about.footer}`);
    return `${lines.join('\n')}\n`;
  }

  #text(text: string): string {
    return text.replace(/<@([A-Z0-9]+)(?:\|[^>]*)?>/g, (_, id: string) =>
      id === this.#slack.botUserId ? '@bot' : `@${id}`,
    );
  }

  #scheduleLive(): void {
    if (!this.#live || this.#redraw) return;
    this.#redraw = setTimeout(() => {
      this.#redraw = undefined;
      this.#clearLive();
      this.#drawLive();
    }, LIVE_REDRAW_MS);
  }

  #clearLive(): void {
    if (!this.#live || this.#drawn === 0) return;
    // Up to the first live line, then clear to the end of the screen.
    this.#out.write(`\x1b[${this.#drawn}F\x1b[J`);
    this.#drawn = 0;
  }

  #drawLive(): void {
    if (!this.#live) return;
    // One terminal row per line, or the cursor-up count of #clearLive would be wrong.
    const width = Math.max(40, (this.#out.columns || 80) - 1);
    const s = this.#style;
    for (const { channel, threadTs } of this.#active.values()) {
      const reply = this.#slack
        .thread(channel, threadTs)
        .filter((m) => m.user === this.#slack.botUserId)
        .map((m) => m.text)
        .join(' ')
        .replace(/\s+/g, ' ');
      const head = `… #${channel} ${threadTs.slice(-6)} (${reply.length} chars) `;
      this.#out.write(`${s.yellow(head)}${s.dim(lastColumns(reply, width - head.length))}\n`);
      this.#drawn++;
    }
  }
}

/** East Asian wide characters and emoji take two terminal columns. */
const WIDE =
  /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u;

/** The end of `text` that fits in `columns` terminal columns. */
function lastColumns(text: string, columns: number): string {
  const chars = [...text];
  let used = 0;
  let from = chars.length;
  while (from > 0) {
    const width = WIDE.test(chars[from - 1]!) ? 2 : 1;
    if (used + width > columns) break;
    used += width;
    from--;
  }
  return chars.slice(from).join('');
}
