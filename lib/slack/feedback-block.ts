/**
 * The feedback buttons under a final answer, and the contract the ingress recognises when one is
 * clicked. A `context_actions` block holds a `feedback_buttons` element with a positive and a
 * negative button; a click comes back as a `block_actions` payload whose action carries
 * `type: 'feedback_buttons'`, this `action_id` and the clicked button's `value`.
 * https://docs.slack.dev/reference/block-kit/blocks/context-actions-block
 * https://docs.slack.dev/reference/block-kit/block-elements/feedback-buttons-element
 */

/** The `action_id` of the feedback element; `receive-interaction` records clicks carrying it. */
export const FEEDBACK_ACTION_ID = 'answer_feedback';

/** The button values (≤ 2000 characters each per the element's docs); nothing else is recorded. */
export const FEEDBACK_VALUES = { positive: 'good', negative: 'bad' } as const;

/** The block as Slack takes it (the shape of `ContextActionsBlock` in `@slack/types`). */
export interface FeedbackBlock {
  type: 'context_actions';
  elements: Array<{
    type: 'feedback_buttons';
    action_id: string;
    positive_button: FeedbackButton;
    negative_button: FeedbackButton;
  }>;
}

interface FeedbackButton {
  text: { type: 'plain_text'; text: string };
  accessibility_label?: string;
  value: string;
}

/** A recorded vote: `good` or `bad`. */
export type FeedbackValue = (typeof FEEDBACK_VALUES)[keyof typeof FEEDBACK_VALUES];

/** Whether `value` is one of the values {@link feedbackBlock} puts on its buttons. */
export function isFeedbackValue(value: unknown): value is FeedbackValue {
  return value === FEEDBACK_VALUES.positive || value === FEEDBACK_VALUES.negative;
}

/**
 * The feedback block to append to an answer's final message (`chat.stopStream` `blocks`, or the
 * last `chat.update` on the edit path). No `block_id`: Slack generates one.
 */
export function feedbackBlock(): FeedbackBlock {
  return {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION_ID,
        // Button text is plain_text, ≤ 75 characters.
        positive_button: {
          text: { type: 'plain_text', text: '👍' },
          accessibility_label: 'Good answer',
          value: FEEDBACK_VALUES.positive,
        },
        negative_button: {
          text: { type: 'plain_text', text: '👎' },
          accessibility_label: 'Bad answer',
          value: FEEDBACK_VALUES.negative,
        },
      },
    ],
  };
}
