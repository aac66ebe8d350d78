import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeWith, fileMissing } from '../../../test/support/env.js';
import { PdfError } from '../errors.js';
import { layoutText, parseTrueType, subsetFont } from './font.js';

const SERIF = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf';

describeWith(fileMissing(SERIF), 'TrueType reading (Liberation Serif)', () => {
  const font = parseTrueType(new Uint8Array(readFileSync(SERIF)));

  it('reads the metrics a font descriptor needs', () => {
    expect(font.postScriptName).toBe('LiberationSerif');
    expect(font.unitsPerEm).toBe(2048);
    expect(font.numGlyphs).toBeGreaterThan(1000);
    expect(font.ascent).toBeGreaterThan(0);
    expect(font.descent).toBeLessThan(0);
    expect(font.capHeight).toBeGreaterThan(0);
    expect(font.italicAngle).toBe(0);
    expect(font.fixedPitch).toBe(false);
    expect(font.bbox[2]).toBeGreaterThan(font.bbox[0]);
  });

  it('maps Vietnamese precomposed letters to distinct glyphs, NFD input included', () => {
    const letters = [...'ếộữạĐđơưỹẫằệ'];
    const glyphs = letters.map((ch) => font.glyphOf(ch.codePointAt(0)!));
    expect(glyphs.every((g) => g > 0)).toBe(true);
    expect(new Set(glyphs).size).toBe(letters.length);
    const text = 'Số: 15/QĐ-BNV';
    expect(layoutText(font, text.normalize('NFD')).glyphs).toEqual(layoutText(font, text).glyphs);
    expect(layoutText(font, text).chars.join('')).toBe(text);
  });

  it('gives Times-compatible advance widths', () => {
    // Liberation Serif is metric-compatible with Times New Roman: "A" is 722/1000 em, space 250.
    const per1000 = (ch: string) =>
      Math.round((font.advanceOf(font.glyphOf(ch.codePointAt(0)!)) * 1000) / 2048);
    expect(per1000('A')).toBe(722);
    expect(per1000(' ')).toBe(250);
    const { advance, glyphs } = layoutText(font, 'AA ');
    expect(glyphs).toHaveLength(3);
    expect(advance).toBe(2 * font.advanceOf(glyphs[0]) + font.advanceOf(glyphs[2]));
  });

  it('subsets to the glyphs used: same glyph IDs, metrics and outlines, a fraction of the size', () => {
    const { glyphs } = layoutText(font, 'Số: 15/QĐ-BNV; Hà Nội');
    const bytes = subsetFont(font, glyphs);
    expect(bytes.length).toBeLessThan(font.bytes.length / 4);
    const sub = parseTrueType(bytes);
    expect(sub).toMatchObject({
      numGlyphs: font.numGlyphs,
      unitsPerEm: 2048,
      postScriptName: 'LiberationSerif',
    });
    expect(layoutText(sub, 'Số: 15/QĐ-BNV; Hà Nội')).toEqual(layoutText(font, 'Số: 15/QĐ-BNV; Hà Nội'));
    const outline = (f: typeof font, g: number) => {
      const glyf = f.tables.get('glyf')!;
      const loca = f.tables.get('loca')!;
      const v = Buffer.from(f.bytes);
      const at = (i: number) =>
        f.longLoca ? v.readUInt32BE(loca.offset + 4 * i) : 2 * v.readUInt16BE(loca.offset + 2 * i);
      return v.subarray(glyf.offset + at(g), glyf.offset + at(g + 1));
    };
    for (const g of glyphs) {
      const original = outline(font, g);
      // The subset pads each outline to four bytes; what precedes the padding is the original.
      expect(Buffer.compare(outline(sub, g).subarray(0, original.length), original)).toBe(0);
    }
    expect(outline(sub, font.glyphOf(0x5a))).toHaveLength(0);
    // The file's checksums hold: the whole file sums to 0xB1B0AFBA.
    let sum = 0;
    for (let i = 0; i < bytes.length; i += 4) sum = (sum + Buffer.from(bytes).readUInt32BE(i)) >>> 0;
    expect(sum).toBe(0xb1b0afba);
  });

  it('refuses a character the font lacks, and files that are not TrueType', () => {
    expect(() => layoutText(font, 'ký 😀')).toThrow('no glyph for U+1F600');
    expect(() => parseTrueType(new Uint8Array(100))).toThrow('not a TrueType font');
    expect(() => parseTrueType(Buffer.from('OTTO\0\0\0\0\0\0\0\0', 'latin1'))).toThrow('CFF');
    const truncated = new Uint8Array(readFileSync(SERIF)).subarray(0, 4096);
    expect(() => parseTrueType(truncated)).toThrow(/past the end|too short/);
  });

  it('fails closed on corrupted fonts: a PdfError or a result, never another exception', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    // Corrupt the table directory and the start of the tables, where offsets and counts live.
    const head = font.tables.get('head')!.offset;
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from(font.bytes);
      for (let k = 0; k < 4; k++) {
        const at = k % 2 ? random(12 + 16 * 20) : random(bytes.length);
        bytes[at] = random(256);
      }
      if (i % 3 === 0) bytes[head + 50 + random(2)] = random(256);
      try {
        const f = parseTrueType(bytes);
        subsetFont(f, layoutText(f, 'Số 15').glyphs);
      } catch (e) {
        expect(e).toBeInstanceOf(PdfError);
      }
    }
  });
});
