import { neutraliseMentions } from '../slack/mentions';
import type { StepUpdate } from './answer-reply';
import { TASK_SOURCES, TASK_TEXT_CHARS } from './stream-limits';

/**
 * How a step of the answer is shown: a task card on the native path, a line on the edit path.
 * Titles and outcomes may quote what a user or a tool wrote, so they notify nobody.
 */

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The step as a `task_update` chunk, within Slack's limits. */
export function taskCard(step: StepUpdate): StepUpdate {
  const sources = cardSources(step);
  return {
    id: step.id,
    title: clip(neutraliseMentions(step.title), TASK_TEXT_CHARS),
    status: step.status,
    ...(step.details ? { details: clip(neutraliseMentions(step.details), TASK_TEXT_CHARS) } : {}),
    ...(step.output ? { output: clip(neutraliseMentions(step.output), TASK_TEXT_CHARS) } : {}),
    ...(sources.length ? { sources } : {}),
  };
}

/**
 * A card's sources as Slack takes them: each with a URL and a text that is not blank (Slack refuses
 * the whole chunk, and with it the stream's write, otherwise: `invalid_chunks`).
 */
function cardSources(step: StepUpdate): NonNullable<StepUpdate['sources']> {
  return (step.sources ?? [])
    .filter((s) => s.url.trim() !== '')
    .slice(0, TASK_SOURCES)
    .map((s) => ({ url: s.url, text: clip(neutraliseMentions(s.text.trim() || s.url), 100) }));
}

const ICONS: Record<StepUpdate['status'], string> = {
  pending: ':white_circle:',
  in_progress: ':hourglass_flowing_sand:',
  complete: ':white_check_mark:',
  error: ':warning:',
};

/**
 * Escapes what Slack's mrkdwn would read as markup
 * (https://docs.slack.dev/messaging/formatting-message-text#escaping).
 */
const escapeMrkdwn = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The step as one mrkdwn line: its state, title, outcome and up to three sources as links. */
export function stepLine(step: StepUpdate): string {
  const card = taskCard(step);
  const outcome = card.output ? ` — ${escapeMrkdwn(card.output)}` : '';
  const sources = (card.sources ?? [])
    .slice(0, 3)
    .filter((s) => /^https?:\/\//.test(s.url))
    .map(
      (s) => `<${s.url.replace(/[<>|]/g, encodeURIComponent)}|${escapeMrkdwn(s.text).replace(/\|/g, '¦')}>`,
    );
  return `${ICONS[step.status]} ${escapeMrkdwn(card.title)}${outcome}${sources.length ? ` (${sources.join(', ')})` : ''}`;
}
