import type { LlmError } from '../errors';

/** Shown in the reply before the model's first token. */
export const PLACEHOLDER = '_Thinking…_';
/** Added to the reply when the record goes back to the queue for another try. */
export const RETRYING_NOTICE =
  ':hourglass_flowing_sand: _The model is having trouble; I will try again in a moment._';
/** Shown when the last try failed: nothing more will happen for this question. */
export const GAVE_UP_NOTICE =
  ':warning: _Sorry, I could not get an answer from the model after several tries. Please ask again later._';
/** Follows partial text that will not be completed. */
export const INTERRUPTED_NOTICE = ':warning: _This answer was interrupted before it finished._';
/** The answer to a mention with no question in it. */
export const EMPTY_QUESTION_REPLY = 'Hi! Mention me with a question and I will answer in this thread.';
/** Shown when the model finished without saying anything. */
export const EMPTY_ANSWER_NOTICE = '_The model returned an empty answer. Try rephrasing the question._';
/** Follows an answer cut at the model's output limit. */
export const LENGTH_NOTICE = '_(The answer reached the model’s length limit.)_';

/** What to tell the user about a model error that no retry will fix. */
export function permanentNotice(error: LlmError): string {
  if (error.status === 401 || error.status === 403) {
    return (
      ':warning: _I cannot reach the model: its API key was refused. Please tell whoever runs this ' + 'bot._'
    );
  }
  if (error.status === 404) {
    return ':warning: _The configured model was not found. Please tell whoever runs this bot._';
  }
  if (/insufficient_quota|quota/i.test(error.message)) {
    return ':warning: _The model’s account is out of quota. Please tell whoever runs this bot._';
  }
  if (/content filter/.test(error.message))
    return ':warning: _The model declined to answer this (content filter)._';
  return (
    `:warning: _The model could not answer this request (${error.status ?? 'error'}). Try rephrasing ` +
    `it._`
  );
}

/** The loading status under the thread while the model starts (`assistant.threads.setStatus`). */
export const THINKING_STATUS = {
  text: 'is thinking…',
  // https://docs.slack.dev/reference/methods/assistant.threads.setStatus: 1–10 messages, each ≤ 50 chars.
  loadingMessages: ['Reading your question…', 'Thinking it through…', 'Writing an answer…'],
};
/** Posted when `SLACK_STREAMING=native` and Slack refuses to stream here. */
export const STREAMING_REFUSED_NOTE =
  ':warning: _I could not stream an answer here: Slack refused native streaming for this app. Please tell ' +
  'whoever runs this bot (SLACK_STREAMING=native)._';
/** Follows an answer the user stopped (kept where the reply can still be written, e.g. a redelivery). */
export const STOPPED_NOTICE = '_(Stopped.)_';
