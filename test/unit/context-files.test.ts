import { classifyFile, fenced, imageTypeOf, isAnimatedGif } from '../../lib/context/files';
import { mentionedUsers, readableMentions } from '../../lib/context/user-names';
import { truncateToTokens } from '../../lib/llm/cut-to-tokens';

describe('classifyFile', () => {
  it.each([
    ['shot.png', 'image/png', 'image'],
    ['photo.jpg', 'image/jpeg', 'image'],
    ['anim.gif', 'image/gif', 'image'],
    ['pic.webp', 'image/webp', 'image'],
    ['notes.txt', 'text/plain', 'text'],
    ['data.json', 'application/json', 'text'],
    ['table.csv', 'text/csv', 'text'],
    ['conf.yaml', 'application/x-yaml', 'text'],
    ['README.md', 'text/markdown', 'text'],
    ['main.py', 'application/octet-stream', 'text'],
    ['Dockerfile', '', 'text'],
    ['report.pdf', 'application/pdf', 'other'],
    ['photo.heic', 'image/heic', 'other'],
    ['archive.zip', 'application/zip', 'other'],
  ])('sorts %s (%s) as %s', (name, mimetype, kind) => {
    expect(classifyFile({ name, mimetype })).toBe(kind);
  });
});

describe('imageTypeOf', () => {
  it.each([
    ['a PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0], 'image/png'],
    ['a JPEG', [0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'image/jpeg'],
    ['a GIF89a', [...Buffer.from('GIF89a'), 1, 0], 'image/gif'],
    ['a GIF87a', [...Buffer.from('GIF87a'), 1, 0], 'image/gif'],
    ['a WEBP', [...Buffer.from('RIFF'), 4, 0, 0, 0, ...Buffer.from('WEBPVP8 ')], 'image/webp'],
    ['an HTML sign-in page', [...Buffer.from('<!DOCTYPE html><html>')], undefined],
    ['a PDF', [...Buffer.from('%PDF-1.7')], undefined],
    [
      'a RIFF that is no WEBP (WAV)',
      [...Buffer.from('RIFF'), 4, 0, 0, 0, ...Buffer.from('WAVEfmt ')],
      undefined,
    ],
    ['nothing', [], undefined],
  ])('reads %s by its leading bytes', (_what, bytes, type) => {
    expect(imageTypeOf(Buffer.from(bytes as number[]))).toBe(type);
  });
});

describe('fenced', () => {
  it('names the file and fences it longer than any backtick run inside', () => {
    expect(fenced('a.md', 'x ``` y')).toBe('Attached file a.md:\n````\nx ``` y\n````');
  });

  it('says where it was cut', () => {
    expect(fenced('a.log', 'abc', 10)).toBe(
      'Attached file a.log:\n```\nabc\n```\n[… cut here: only the first 3 of 10 characters fit]',
    );
  });
});

describe('truncateToTokens', () => {
  const count = (text: string) => text.split(' ').filter((w) => w).length; // one token a word

  it('keeps a text that fits', () => {
    expect(truncateToTokens('a b c', 3, count)).toEqual({ text: 'a b c', cut: false, tokens: 3 });
  });

  it('cuts to the longest prefix that fits', () => {
    expect(truncateToTokens('a b c d e', 2, count)).toEqual({ text: 'a b ', cut: true, tokens: 2 });
  });
});

describe('mentions', () => {
  it('lists the users a text mentions', () => {
    expect(mentionedUsers('hi <@U1> and <@W2|bob>, not <#C1>')).toEqual(['U1', 'W2']);
  });

  it('makes mentions readable with known names, labels, or leaves the id', () => {
    const names = new Map([
      ['U1', 'Alice'],
      ['U3', '<@U3>'],
    ]);
    expect(readableMentions('<@U1> <@U2|bob> <@U3> <@U4>', names)).toBe('@Alice @bob <@U3> <@U4>');
  });
});

describe('isAnimatedGif', () => {
  /** A GIF89a with `frames` frames of one 1×1 pixel each (header, screen descriptor, frames, trailer). */
  function gif(frames: number): Buffer {
    const header = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00', 'latin1');
    const frame = Buffer.from([
      0x21,
      0xf9,
      0x04,
      0x00,
      0x0a,
      0x00,
      0x00,
      0x00, // graphic control extension (delay 10)
      0x2c,
      0x00,
      0x00,
      0x00,
      0x00,
      0x01,
      0x00,
      0x01,
      0x00,
      0x00, // image descriptor
      0x02,
      0x02,
      0x44,
      0x01,
      0x00, // LZW minimum code size, one data block, terminator
    ]);
    return Buffer.concat([header, ...Array.from({ length: frames }, () => frame), Buffer.from([0x3b])]);
  }

  it('tells an animated GIF from a still one', () => {
    expect(isAnimatedGif(gif(1))).toBe(false);
    expect(isAnimatedGif(gif(3))).toBe(true);
  });
});
