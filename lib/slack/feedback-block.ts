/** `action_id` of the feedback buttons under a final answer; the ingress recognises clicks by it. */
export const FEEDBACK_ACTION_ID = 'answer_feedback';

/**
 * Slack's feedback buttons for an AI answer: a `context_actions` block holding a `feedback_buttons`
 * element (https://docs.slack.dev/reference/block-kit/block-elements/feedback-buttons-element,
 * https://docs.slack.dev/reference/block-kit/blocks/context-actions-block). A click arrives as a
 * `block_actions` interaction whose action `value` is `good` or `bad`.
 */
export function feedbackBlock(): Record<string, unknown> {
  return {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION_ID,
        positive_button: {
          text: { type: 'plain_text', text: 'Good answer' },
          accessibility_label: 'Mark this answer as good',
          value: 'good',
        },
        negative_button: {
          text: { type: 'plain_text', text: 'Bad answer' },
          accessibility_label: 'Mark this answer as bad',
          value: 'bad',
        },
      },
    ],
  };
}
