import slackifyMarkdown from 'slackify-markdown';

/**
 * Slack does not render Markdown in `text`; it renders its own "mrkdwn"
 * (https://api.slack.com/reference/surfaces/formatting). Models answer in Markdown.
 */
export function toMrkdwn(markdown: string): string {
  if (markdown.trim() === '') return '';
  return slackifyMarkdown(markdown).replace(/\n+$/, '');
}
