/**
 * OpenAI's answers to an image it cannot use (400, `invalid_request_error`), as reported by users
 * of the API: https://github.com/STranslate/STranslate/issues/277 (`invalid_image_format`) and
 * https://github.com/Azure/azure-sdk-for-java/issues/41670 (`invalid_base64`).
 */
export const IMAGE_ERRORS = {
  invalid_image_format: {
    message:
      "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_image_format',
  },
  invalid_base64: {
    message: 'Invalid base64 image_url.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_base64',
  },
} as const;

/**
 * Why OpenAI would refuse an `image_url` part, or undefined when it would take it: a `data:` URL
 * must be base64 of a PNG, JPEG, GIF or WEBP image. The peer checks each format's frame (PNG's
 * IHDR and IEND chunks, JPEG's start and end markers, GIF's header and trailer, WEBP's RIFF
 * header), which is what a decoder meets first; https URLs are not fetched.
 */
export function imageRefusal(url: string): keyof typeof IMAGE_ERRORS | undefined {
  if (!url.startsWith('data:')) return undefined;
  const match = /^data:image\/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/]*={0,2})$/s.exec(url);
  if (!match) return url.includes(';base64,') ? 'invalid_image_format' : 'invalid_base64';
  const bytes = Buffer.from(match[2]!, 'base64');
  const ascii = (from: number, to: number) => bytes.subarray(from, to).toString('latin1');
  const png =
    ascii(0, 8) === '\x89PNG\r\n\x1a\n' &&
    ascii(12, 16) === 'IHDR' &&
    ascii(bytes.length - 8, bytes.length - 4) === 'IEND';
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes.at(-2) === 0xff && bytes.at(-1) === 0xd9;
  const gif = /^GIF8[79]a$/.test(ascii(0, 6)) && bytes.length > 13 && bytes.at(-1) === 0x3b;
  const webp =
    ascii(0, 4) === 'RIFF' &&
    bytes.length >= 16 &&
    bytes.readUInt32LE(4) === bytes.length - 8 &&
    ascii(8, 12) === 'WEBP' &&
    /^VP8[ LX]$/.test(ascii(12, 16));
  return png || jpeg || gif || webp ? undefined : 'invalid_image_format';
}
