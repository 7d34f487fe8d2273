/**
 * Model output must never notify anyone. Slack turns these tokens into notifications when they
 * appear in a message's text (https://docs.slack.dev/messaging/formatting-message-text#mentioning-users,
 * #mentioning-groups, #special-mentions): `<@U123>` / `<@W123|name>` (a user), `<!subteam^S123|@team>`
 * (a user group), `<!here>`, `<!channel>`, `<!everyone>`. Links (`<https://…|label>`), channel links
 * (`<#C123>`) and dates (`<!date^…|fallback>`) notify nobody and stay as they are.
 *
 * Each mention becomes plain text: a user shows as `@name` (or `@U123`), a group as its label, and
 * the broadcast words as `@here`, `@channel`, `@everyone` with a word joiner (U+2060) after the `@`,
 * so that no renderer, `link_names` or markdown parser can turn them back into a broadcast.
 */
const MENTION = /<(@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+|!here|!channel|!everyone)(?:\|([^<>]*))?>/g;

const WORD_JOINER = '\u2060';

/**
 * Replaces every notifying mention in `text` with inert text; everything else is unchanged.
 * Repeated until nothing changes: a mention nested in another's label (`<@U1|<!here>>`) must not
 * come back out when the outer one is replaced.
 */
export function neutraliseMentions(text: string): string {
  let out = text;
  for (let previous = ''; previous !== out; ) {
    previous = out;
    out = out.replace(MENTION, (_match, target: string, label: string | undefined) => {
      if (target.startsWith('@')) return `@${label?.replace(/^@/, '') || target.slice(1)}`;
      if (target.startsWith('!subteam'))
        return `@${label?.replace(/^@/, '') || target.slice('!subteam^'.length)}`;
      return `@${WORD_JOINER}${target.slice(1)}`;
    });
  }
  return out;
}

/**
 * The longest prefix of `text` that can be neutralised and shown now: a `<` near the end that is
 * not closed yet (counting nesting: `<@U1|<!here>` is still open) may become a mention when more
 * text arrives, so it is held back; a run longer than `window` characters cannot be a mention.
 */
export function stablePrefix(text: string, window = 64): string {
  const open: number[] = [];
  for (let i = Math.max(0, text.length - window); i < text.length; i++) {
    if (text[i] === '<') open.push(i);
    else if (text[i] === '>') open.pop();
  }
  return open.length === 0 ? text : text.slice(0, open[0]);
}
