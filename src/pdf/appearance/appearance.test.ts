import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { minimalPdf, qpdf } from '../../../test/pdf/fixtures.js';
import { strokePng, writePng } from '../../../test/pdf/png-writer.js';
import { describeWith, fileMissing, tempDir, testWith, toolMissing } from '../../../test/support/env.js';
import { prepareSignature } from '../sign/index.js';
import { isName, numberValue, type PdfDict, PdfDocument, PdfStream, type PdfValue } from '../syntax/index.js';
import type { SignatureAppearance } from './appearance.js';
import { layoutText, parseTrueType } from './font.js';

const SERIF = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf';

/** Prepares a signature with an appearance and returns the document, the widget and its /AP /N stream. */
function prepared(pdf: Uint8Array, appearance: SignatureAppearance) {
  const doc = PdfDocument.open(prepareSignature(pdf, { appearance }).prepared);
  const [field] = doc.signatureFields();
  const normal = doc.get(doc.get(field.dict, 'AP') as PdfDict, 'N') as PdfStream;
  const rect = (doc.get(field.dict, 'Rect') as PdfValue[]).map((v) => numberValue(v)!);
  return { doc, field, normal, rect, content: Buffer.from(normal.data).toString('latin1') };
}

const blue = () => writePng({ width: 4, height: 2, colorType: 2, rows: new Uint8Array(24).fill(200) });

describe('signature appearances, as written', () => {
  it('an image: a Form XObject the size of the rect, the image centred with its aspect kept', () => {
    const { doc, field, normal, rect, content } = prepared(minimalPdf({ pages: 2 }), {
      kind: 'image',
      png: blue(),
      page: -1,
      rect: [100, 100, 120, 240],
    });
    expect(rect).toEqual([100, 100, 220, 340]);
    expect(field.dict.get('P')).toEqual(doc.pages()[1].ref);
    expect(doc.get(field.dict, 'F')).toBe(132);
    expect(isName(doc.get(normal.dict, 'Subtype'), 'Form')).toBe(true);
    expect(doc.get(normal.dict, 'BBox')).toEqual([0, 0, 120, 240]);
    expect(normal.dict.has('Matrix')).toBe(false);
    expect(content).toBe('q 120 0 0 60 0 90 cm /Im0 Do Q\n');
    const xobjects = doc.get(doc.get(normal.dict, 'Resources') as PdfDict, 'XObject') as PdfDict;
    const image = doc.get(xobjects, 'Im0') as PdfStream;
    expect(doc.get(image.dict, 'Width')).toBe(4);
    expect(isName(doc.get(image.dict, 'ColorSpace'), 'DeviceRGB')).toBe(true);
    // Opaque: no soft mask.
    expect(image.dict.has('SMask')).toBe(false);
  });

  it('a transparent image gets a DeviceGray /SMask of the same size', () => {
    const { doc, normal } = prepared(minimalPdf({ pages: 1 }), {
      kind: 'seal',
      png: strokePng(30, 10, [200, 0, 0]),
      page: 1,
      rect: [10, 10, 30, 10],
    });
    const xobjects = doc.get(doc.get(normal.dict, 'Resources') as PdfDict, 'XObject') as PdfDict;
    const image = doc.get(xobjects, 'Im0') as PdfStream;
    const smask = doc.get(image.dict, 'SMask') as PdfStream;
    expect(smask).toBeInstanceOf(PdfStream);
    expect(isName(doc.get(smask.dict, 'ColorSpace'), 'DeviceGray')).toBe(true);
    expect([doc.get(smask.dict, 'Width'), doc.get(smask.dict, 'Height')]).toEqual([30, 10]);
  });

  describeWith(fileMissing(SERIF), 'a text stamp', () => {
    const fontBytes = existsSync(SERIF) ? new Uint8Array(readFileSync(SERIF)) : new Uint8Array(0);
    const text = 'Số: 15/QĐ-BNV; 2026-11-26T10:00:00+07:00';

    it('embeds a subset of the font as CIDFontType2/Identity-H with widths and a ToUnicode for the glyphs used', () => {
      const { doc, normal, rect, content } = prepared(minimalPdf({ pages: 1 }), {
        kind: 'stamp',
        text,
        font: fontBytes,
      });
      const font = parseTrueType(fontBytes);
      const { glyphs, advance } = layoutText(font, text);
      // Top-right with a 20 pt margin, the text's width in 10-pt Times metrics plus 2 pt padding.
      expect(rect[2]).toBe(575);
      expect(rect[3]).toBe(822);
      expect(rect[2] - rect[0]).toBeCloseTo((advance * 10) / 2048 + 4, 6);
      const hex = glyphs.map((g) => g.toString(16).padStart(4, '0')).join('');
      expect(content).toContain(`/F0 10 Tf`);
      expect(content).toContain(`<${hex}> Tj`);
      const type0 = doc.get(
        doc.get(doc.get(normal.dict, 'Resources') as PdfDict, 'Font') as PdfDict,
        'F0',
      ) as PdfDict;
      expect(isName(doc.get(type0, 'Subtype'), 'Type0')).toBe(true);
      expect(isName(doc.get(type0, 'Encoding'), 'Identity-H')).toBe(true);
      const [cid] = doc.get(type0, 'DescendantFonts') as PdfValue[];
      const cidFont = doc.resolve(cid) as PdfDict;
      expect(isName(doc.get(cidFont, 'Subtype'), 'CIDFontType2')).toBe(true);
      expect(isName(doc.get(cidFont, 'CIDToGIDMap'), 'Identity')).toBe(true);
      const w = doc.get(cidFont, 'W') as PdfValue[];
      const gA = font.glyphOf(0x41);
      const widthOf = new Map<number, number>();
      for (let i = 0; i < w.length; i += 2) widthOf.set(w[i] as number, (w[i + 1] as number[])[0]);
      expect(widthOf.size).toBe(new Set(glyphs).size);
      expect(widthOf.get(font.glyphOf(0x31))).toBe(500);
      expect(widthOf.has(gA)).toBe(false);
      const descriptor = doc.get(cidFont, 'FontDescriptor') as PdfDict;
      const file = doc.get(descriptor, 'FontFile2') as PdfStream;
      const length1 = doc.get(file.dict, 'Length1') as number;
      expect(length1).toBeLessThan(fontBytes.length / 4);
      expect((doc.get(type0, 'BaseFont') as { value: string }).value).toMatch(/^[A-Z]{6}\+LiberationSerif$/);
      const cmap = Buffer.from((doc.get(type0, 'ToUnicode') as PdfStream).data).toString('latin1');
      const gO = font.glyphOf(0x1ed1).toString(16).toUpperCase().padStart(4, '0');
      expect(cmap).toContain(`<${gO}> <1ED1>`);
      expect(cmap).toContain('begincodespacerange\n<0000> <FFFF>');
    });

    testWith(
      toolMissing('qpdf'),
      'on a rotated page, turns the drawing with /Matrix and places it top-right as shown',
      () => {
        const tmp = tempDir('kyso-pdf-appearance-unit-');
        try {
          const rotated = qpdf(tmp.dir, minimalPdf({ pages: 1 }), ['--rotate=+90:1'], 'rot');
          const { normal, rect } = prepared(rotated, { kind: 'stamp', text, font: fontBytes });
          expect(normal.dict.get('Matrix')).toEqual([0, 1, -1, 0, 0, 0]);
          // Turned clockwise, the page shows its user-space top-left corner at the top right.
          expect(rect[0]).toBe(20);
          expect(rect[3]).toBe(842 - 20);
        } finally {
          tmp.remove();
        }
      },
    );
  });
});
