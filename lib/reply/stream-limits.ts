/**
 * What Slack's native stream answers and holds: the refusals that mean streaming is unavailable,
 * the answers that end a stream message, and the limits of a task card.
 * https://docs.slack.dev/reference/methods/chat.startStream, chat.appendStream, chat.stopStream
 */

/**
 * `chat.startStream` refusals that mean "no native streaming for this workspace": remembered, so
 * its next answers go straight to the edit path
 * (https://docs.slack.dev/reference/methods/chat.startStream#errors).
 */
export const WORKSPACE_UNAVAILABLE = new Set([
  'feature_not_enabled',
  'unknown_method',
  'method_deprecated',
  'not_allowed_token_type',
]);
/** Refusals that mean "not here": this answer falls back, the workspace is not remembered. */
export const HERE_UNAVAILABLE = new Set([
  'channel_type_not_supported',
  'method_not_supported_for_channel_type',
  'missing_recipient_user_id',
  'missing_recipient_team_id',
]);
/** `chat.appendStream` / `stopStream` answers meaning the message no longer takes text. */
export const ENDED = new Set(['message_not_in_streaming_state', 'message_not_found', 'msg_too_long']);
/** `chat.appendStream` answer when the user pressed Stop on the stream. */
export const STOPPED_BY_USER = 'stopped_by_user';

/**
 * Longest `details` and `output` of a task card; third-party SDKs document 256 characters, Slack's
 * method pages give no number (https://docs.slack.dev/reference/methods/chat.appendStream).
 */
export const TASK_TEXT_CHARS = 256;
/** At most this many sources are listed on one task card. */
export const TASK_SOURCES = 10;
