import OpenAI from 'openai';
import type { LlmError } from '../errors';

/**
 * Whether the model refused the request because of an image in it. OpenAI answers such a request
 * with HTTP 400 `invalid_request_error` and a code or message about the image:
 * `invalid_image_format` ("You uploaded an unsupported image…",
 * https://github.com/STranslate/STranslate/issues/277), `invalid_base64` ("Invalid base64
 * image_url.", https://github.com/Azure/azure-sdk-for-java/issues/41670), or `invalid_value` with
 * `param` naming `…image_url…` (https://github.com/openai/openai-python/issues/1483). The whole
 * request fails for one image: asking again without the images can answer the question.
 */
export function isImageRefusal(error: LlmError): boolean {
  if (error.status !== 400) return false;
  const cause = error.cause;
  if (!(cause instanceof OpenAI.APIError)) return false;
  const code = typeof cause.code === 'string' ? cause.code : '';
  const param = typeof cause.param === 'string' ? cause.param : '';
  return (
    /image/i.test(code) || code === 'invalid_base64' || /image/i.test(param) || /\bimage/i.test(cause.message)
  );
}
