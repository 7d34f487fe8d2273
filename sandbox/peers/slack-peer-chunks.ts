import { fail, invalid, MARKDOWN_TEXT_LIMIT, type SlackResponse, textLength } from './slack-peer-methods';

/**
 * How the Slack peer checks the `chunks` of chat.startStream / appendStream / stopStream, so a
 * malformed task card fails here as it would on Slack.
 */

const CHUNK_TYPES = new Set(['markdown_text', 'task_update', 'plan_update', 'blocks']);
const TASK_STATUSES = new Set(['pending', 'in_progress', 'complete', 'error']);
/**
 * Limits of a task card's text fields. `details` and `output`: 256, as third-party SDKs document
 * them (Microsoft Agents SDK `TaskUpdateChunk`); titles (task and plan) held to the same here.
 */
export const TASK_TEXT_LIMIT = 256;

/** The problem with one `task_update` or `plan_update` chunk, if any. */
function checkTaskChunk(chunk: Record<string, unknown>, at: string): SlackResponse | undefined {
  const text = (key: string, required: boolean): SlackResponse | undefined => {
    const value = chunk[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '')
      return invalid('invalid_chunks', `missing required field: ${key}`, `${at}/${key}`);
    if (value.length > TASK_TEXT_LIMIT) {
      return invalid('invalid_chunks', `must be less than ${TASK_TEXT_LIMIT + 1} characters`, `${at}/${key}`);
    }
    return undefined;
  };
  if (chunk.type === 'plan_update') return text('title', true);
  const problem = text('id', true) ?? text('title', true) ?? text('details', false) ?? text('output', false);
  if (problem) return problem;
  if (typeof chunk.status !== 'string' || !TASK_STATUSES.has(chunk.status)) {
    return invalid('invalid_chunks', 'must be one of pending, in_progress, complete, error', `${at}/status`);
  }
  if (chunk.sources === undefined) return undefined;
  if (!Array.isArray(chunk.sources))
    return invalid('invalid_chunks', 'must provide an array', `${at}/sources`);
  for (const [j, source] of chunk.sources.entries()) {
    const s = source as { type?: unknown; url?: unknown; text?: unknown };
    if (s?.type !== 'url') return invalid('invalid_chunks', 'must be url', `${at}/sources/${j}/type`);
    if (typeof s.url !== 'string' || !/^https?:\/\//.test(s.url)) {
      return invalid('invalid_chunks', 'must be an http(s) URL', `${at}/sources/${j}/url`);
    }
    // "Slack rejects a source without text" (slack-morphism's note on SlackTaskCardSource).
    if (typeof s.text !== 'string' || s.text === '') {
      return invalid('invalid_chunks', 'missing required field: text', `${at}/sources/${j}/text`);
    }
  }
  return undefined;
}

// https://docs.slack.dev/reference/methods/chat.appendStream (chunks): types, and for task cards
// their fields, statuses and lengths (@slack/types chunk.ts `TaskUpdateChunk`, `PlanUpdateChunk`).
export function checkChunks(chunks: unknown): SlackResponse | undefined {
  if (chunks === undefined) return undefined;
  if (!Array.isArray(chunks)) return invalid('invalid_chunks', 'must provide an array', '/chunks');
  for (const [i, chunk] of chunks.entries()) {
    const type = (chunk as { type?: unknown })?.type;
    if (typeof type !== 'string' || !CHUNK_TYPES.has(type)) {
      return invalid('invalid_chunks', 'unsupported chunk type', `/chunks/${i}/type`);
    }
    if (type === 'markdown_text' && typeof (chunk as { text?: unknown }).text !== 'string') {
      return invalid('invalid_chunks', 'missing required field: text', `/chunks/${i}/text`);
    }
    if (type === 'markdown_text' && textLength(chunk) > MARKDOWN_TEXT_LIMIT) return fail('msg_too_long');
    if (type === 'task_update' || type === 'plan_update') {
      const problem = checkTaskChunk(chunk as Record<string, unknown>, `/chunks/${i}`);
      if (problem) return problem;
    }
  }
  return undefined;
}
