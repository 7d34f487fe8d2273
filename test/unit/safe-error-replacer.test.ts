import { LlmError, SlackCallError } from '../../lib/errors';
import { logReplacer } from '../../lib/logger';

describe('logReplacer, on errors', () => {
  it('keeps names, messages, codes and ids down the cause chain, and drops fields that may hold text', () => {
    // Prepare: a Slack SDK error carries the whole response in `data`; ours carry the answer.
    const sdkError = Object.assign(new Error('An API error occurred: msg_too_long'), {
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'msg_too_long', message: { text: 'the secret answer' } },
    });
    const slack = new SlackCallError(
      'chat.update',
      { slackError: 'msg_too_long', retryable: false },
      { cause: sdkError },
    );
    const llm = new LlmError(
      'model API error 500',
      { retryable: true, status: 500, partialText: 'the secret answer' },
      { cause: slack },
    );
    // Act
    const written = JSON.stringify({ error: llm }, logReplacer);
    // Assess
    expect(written).not.toContain('secret');
    expect(JSON.parse(written).error).toMatchObject({
      name: 'LlmError',
      message: 'model API error 500',
      retryable: true,
      status: 500,
      partialTextChars: 17,
      cause: {
        name: 'SlackCallError',
        method: 'chat.update',
        slackError: 'msg_too_long',
        cause: { name: 'Error', code: 'slack_webapi_platform_error' },
      },
    });
  });

  it('does not enumerate LlmError.partialText', () => {
    // Act
    const error = new LlmError('broke', { retryable: true, partialText: 'text' });
    // Assess
    expect(Object.keys(error)).not.toContain('partialText');
    expect(error.partialText).toBe('text');
  });
});
