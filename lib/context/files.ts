import type { Logger } from '@aws-lambda-powertools/logger';
import { truncateToTokens } from '../llm/cut-to-tokens';
import type { ContentPart, TokenCounter } from '../llm/prompt';
import type { JobFile } from '../queue/job';
import { AttachmentError } from './errors';
import type { FileDownloader } from './file-downloader';

/** How a file attached to a question is given to the model. */
export type FileKind = 'image' | 'text' | 'other';

/**
 * Image types the model reads, and their limits
 * (https://platform.openai.com/docs/guides/images-vision#image-input-requirements: PNG, JPEG,
 * WEBP, non-animated GIF; up to 20 MB per image, 500 images and 50 MB of image bytes per request).
 */
export const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Ours, below OpenAI's 50 MB per request: what one invocation downloads and re-sends as base64. */
export const MAX_IMAGES_BYTES = 20 * 1024 * 1024;
/** Ours (Slack attaches at most 10 files to a message; OpenAI takes 500 images). */
export const MAX_IMAGES = 10;
/** Text files larger than this are not read (the token budget would cut them far shorter anyway). */
export const MAX_TEXT_BYTES = 200 * 1024;

const TEXT_MIMETYPES =
  /^(text\/.+|application\/(json|x-ndjson|xml|yaml|x-yaml|toml|javascript|x-javascript|typescript|x-sh|sql|csv|graphql|x-python|x-ruby|x-httpd-php))$/;
const TEXT_EXTENSIONS = new Set(
  (
    'txt md markdown csv tsv json jsonl ndjson yaml yml toml ini cfg conf log xml html htm css scss ' +
    'js mjs cjs ts tsx jsx py rb go rs java kt kts swift c h cc cpp hpp cs php sh bash zsh ps1 sql ' +
    'graphql proto tf hcl gradle properties env dockerfile makefile diff patch rst tex r scala lua dart'
  ).split(' '),
);

/** Sorts a file by its mimetype, or by its name's extension when the mimetype says nothing. */
export function classifyFile(file: Pick<JobFile, 'name' | 'mimetype'>): FileKind {
  const mimetype = file.mimetype.toLowerCase().split(';')[0]!.trim();
  if (IMAGE_TYPES.has(mimetype)) return 'image';
  if (TEXT_MIMETYPES.test(mimetype)) return 'text';
  const name = file.name.toLowerCase();
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
  if (TEXT_EXTENSIONS.has(extension) && !mimetype.startsWith('image/')) return 'text';
  return 'other';
}

/** The attachments of one question, ready for the prompt. */
export interface Attachments {
  /** Image parts to send with the question. */
  images: ContentPart[];
  /** Text files, fenced and named, and notes on files not read; appended to the question. */
  text: string;
  /** What memory keeps instead of the images (`[image: diagram.png]`). */
  standIns: string;
  /** The names of the images in `images`, in order (to name them if the model refuses them). */
  imageNames: string[];
  /** Tokens the inlined text costs. */
  tokens: number;
}

/**
 * Reads the files attached to a question: images become `data:` URL parts (OpenAI cannot fetch
 * Slack's private URLs), text files are inlined up to `textBudget` tokens (cut with a marker),
 * and anything else is named as not read, so the model can say so instead of guessing.
 */
export async function readAttachments(
  files: JobFile[],
  downloader: FileDownloader,
  options: {
    imageInput: 'auto' | 'off';
    deadline: number;
    textBudget: number;
    count: TokenCounter;
    logger: Logger;
  },
): Promise<Attachments> {
  const images: ContentPart[] = [];
  const blocks: string[] = [];
  const notes: string[] = [];
  const standIns: string[] = [];
  const imageNames: string[] = [];
  let imageBytes = 0;
  let tokens = 0;
  const fetchFile = async (file: JobFile, maxBytes: number): Promise<Buffer | undefined> => {
    if (!file.urlPrivate) return undefined;
    try {
      return await downloader.download(file.urlPrivate, { maxBytes, deadline: options.deadline });
    } catch (error) {
      if (!(error instanceof AttachmentError)) throw error;
      options.logger.warn('an attached file was not read', { fileId: file.id, problem: error.problem });
      return undefined;
    }
  };

  for (const file of files) {
    const kind = classifyFile(file);
    if (kind === 'image') {
      standIns.push(`[image: ${file.name}]`);
      if (options.imageInput === 'off') {
        notes.push(`An image named ${file.name} was attached but not shown to you (image input is off).`);
        continue;
      }
      const room = Math.min(MAX_IMAGE_BYTES, MAX_IMAGES_BYTES - imageBytes);
      const bytes = images.length < MAX_IMAGES && file.size <= room ? await fetchFile(file, room) : undefined;
      // What the bytes are, not what the file says: a file labelled image/png may be anything (or
      // an HTML sign-in page served in its place), and the model refuses the whole request for it.
      const mime = bytes && imageTypeOf(bytes);
      if (!bytes || !mime) {
        if (bytes)
          options.logger.warn('an attached file was not read', { fileId: file.id, problem: 'not_an_image' });
        notes.push(`An image named ${file.name} was attached but could not be read.`);
        continue;
      }
      if (mime === 'image/gif' && isAnimatedGif(bytes)) {
        // OpenAI takes non-animated GIFs only: an animated one would fail the whole request.
        notes.push(`An animated GIF named ${file.name} was attached but not shown to you (not supported).`);
        continue;
      }
      imageBytes += bytes.length;
      imageNames.push(file.name);
      images.push({
        type: 'image_url',
        image_url: { url: `data:${mime};base64,${bytes.toString('base64')}` },
      });
      continue;
    }
    if (kind === 'text') {
      const bytes = file.size <= MAX_TEXT_BYTES ? await fetchFile(file, MAX_TEXT_BYTES) : undefined;
      const content = bytes?.toString('utf8');
      if (content === undefined || content.includes('\u0000') || isHtmlInstead(file, content)) {
        notes.push(`A file named ${file.name} was attached but not read (too large, unreadable or binary).`);
        continue;
      }
      const room = options.textBudget - tokens;
      const kept = truncateToTokens(content, Math.max(0, room - 60), options.count);
      const originalLength = kept.cut ? content.length : undefined;
      const block = fenced(file.name, kept.text, originalLength);
      // The kept text's tokens as the cut counted them, plus the name, fences and marker: counting
      // the whole block again would cost as much once more (and a bounded counter may then only
      // estimate it, by bytes).
      tokens += kept.tokens + options.count(fenced(file.name, '', originalLength));
      blocks.push(block);
      continue;
    }
    const what = /pdf/i.test(file.mimetype) ? 'A PDF' : 'A file';
    notes.push(`${what} named ${file.name} (${file.mimetype || 'unknown type'}) was attached but not read.`);
  }
  const text = [...blocks, ...notes.map((n) => `(${n})`)].join('\n\n');
  return { images, text, standIns: standIns.join(' '), imageNames, tokens };
}

/**
 * The image type of `bytes` by their leading bytes (the formats' signatures: PNG
 * https://www.w3.org/TR/png/#5PNG-file-signature, JPEG's SOI marker FF D8 FF, GIF87a/GIF89a,
 * WEBP's `RIFF….WEBP` https://developers.google.com/speed/webp/docs/riff_container), or
 * undefined when they are none of the four the model reads.
 */
export function imageTypeOf(
  bytes: Buffer,
): 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | undefined {
  const ascii = (from: number, to: number) => bytes.subarray(from, to).toString('latin1');
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/**
 * Whether a text file's content is an HTML page although the file is not HTML: what a download
 * returns when it lands on a sign-in page instead of the file.
 */
function isHtmlInstead(file: Pick<JobFile, 'name' | 'mimetype'>, content: string): boolean {
  if (/html|xml/i.test(file.mimetype) || /\.(html?|xml|svg)$/i.test(file.name)) return false;
  return /^\s*(<!doctype html|<html[\s>])/i.test(content.slice(0, 512));
}

/** A file's text in a Markdown fence longer than any backtick run inside it, named above. */
export function fenced(name: string, text: string, originalLength?: number): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const marker =
    originalLength === undefined
      ? ''
      : `\n[… cut here: only the first ${text.length} of ${originalLength} characters fit]`;
  return `Attached file ${name}:\n${fence}\n${text}${text.endsWith('\n') ? '' : '\n'}${fence}${marker}`;
}

/**
 * Whether a GIF holds more than one frame: each frame starts with an image descriptor (0x2C),
 * which in a well-formed file follows a graphic control extension (0x21 0xF9 0x04 … 0x00). Counting
 * those extensions is enough to tell; a still GIF has at most one
 * (https://www.w3.org/Graphics/GIF/spec-gif89a.txt, sections 20 and 23).
 */
export function isAnimatedGif(bytes: Buffer): boolean {
  let frames = 0;
  for (let i = 0; i + 7 < bytes.length; i++) {
    // Graphic control extension: introducer, label, block size 4, 4 bytes, block terminator.
    if (bytes[i] === 0x21 && bytes[i + 1] === 0xf9 && bytes[i + 2] === 0x04 && bytes[i + 7] === 0x00) {
      if (++frames > 1) return true;
      i += 7;
    }
  }
  return false;
}
