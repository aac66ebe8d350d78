import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CidFont, lit, textPdf } from '../../../test/pdf/text-pdf.js';
import { describeWith } from '../../../test/support/env.js';
import { parseTrueType } from '../appearance/index.js';
import { PdfDocument } from '../syntax/index.js';
import { glyphNameToUnicode, standardMetrics } from './font-encodings.js';
import { findText, PageText } from './text-search.js';

const SANS = '/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf';
const SERIF = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf';
const fontsPresent = existsSync(SANS) && existsSync(SERIF);

/** The page's only occurrence of a text, rounded to 0.01 pt. */
function only(pdf: Uint8Array, text: string, page = 0) {
  const found = findText(PdfDocument.open(pdf), page, text);
  expect(found, text).toHaveLength(1);
  const r = (v: number) => Math.round(v * 100) / 100;
  const [b] = found;
  return { x: r(b.x), y: r(b.y), width: r(b.width), height: r(b.height) };
}

/** Helvetica widths of ASCII text at a size (the standard-14 table). */
const helvetica = (text: string, size: number) =>
  ([...text].reduce((w, ch) => w + standardMetrics('Helvetica').width(ch), 0) * size) / 1000;

describe('findText', () => {
  it('finds WinAnsi Helvetica text without /Widths, boxed from the standard metrics', () => {
    const pdf = textPdf([{ content: `BT /F1 12 Tf 100 600 Td ${lit('Nguyen Van A')} Tj ET` }]);
    expect(only(pdf, 'Nguyen Van A')).toEqual({
      x: 100,
      y: Math.round((600 - 0.207 * 12) * 100) / 100,
      width: Math.round(helvetica('Nguyen Van A', 12) * 100) / 100,
      height: Math.round(0.925 * 12 * 100) / 100,
    });
  });

  it('matches whole words only, case-sensitively unless asked, and collapses white space', () => {
    const pdf = textPdf([
      { content: `BT /F1 12 Tf 100 600 Td ${lit('Ong Nguyen Van An,  Nguyen Van A.')} Tj ET` },
    ]);
    const doc = PdfDocument.open(pdf);
    expect(findText(doc, 0, 'Nguyen Van A')).toHaveLength(1);
    expect(findText(doc, 0, 'Nguyen  Van\tAn')).toHaveLength(1);
    expect(findText(doc, 0, 'Van')).toHaveLength(2);
    expect(findText(doc, 0, 'guyen')).toHaveLength(0);
    expect(findText(doc, 0, 'nguyen van a')).toHaveLength(0);
    expect(findText(doc, 0, 'nguyen van a', { ignoreCase: true })).toHaveLength(1);
    // Punctuation at the edge of the text needs no word boundary.
    expect(findText(doc, 0, 'A.')).toHaveLength(1);
  });

  it('reads /Differences with uniXXXX and named glyphs, and joins combining marks (NFC)', () => {
    const pdf = textPdf([
      { content: 'BT /F4 12 Tf 100 600 Td (Nguy\x80n V\x81n \x82) Tj 0 -20 Td (Nguye\x83\x84n) Tj ET' },
    ]);
    const doc = PdfDocument.open(pdf);
    expect(findText(doc, 0, 'Nguyễn Văn Đ')).toHaveLength(1);
    // The needle is normalized too: decomposed input finds the precomposed text.
    expect(findText(doc, 0, 'Nguyễn Văn Đ'.normalize('NFD'))).toHaveLength(1);
    const two = findText(doc, 0, 'Nguyễn');
    expect(two).toHaveLength(2);
    expect(two[1].y).toBeLessThan(two[0].y);
  });

  it("reads a Type 1 font's built-in encoding from its program; a glyph without text leaves a space", () => {
    const pdf = textPdf([{ content: 'BT /F5 12 Tf 100 600 Td (A B) Tj ET' }]);
    expect(
      PageText.read(PdfDocument.open(pdf), 0)
        .words()
        .map((w) => w.text),
    ).toEqual(['ễ', '.']);
  });

  it('joins text split into TJ pieces with kerning, spaces given as positioning, under cm and Tm', () => {
    // Word spaces are -280/1000 em gaps rather than space glyphs; letters carry small kerning.
    const content =
      'q 2 0 0 2 10 20 cm BT /F1 6 Tf 1 0 0 1 40 250 Tm [(Ng) 15 (uy) -5 (en) -280 (V) 40 (an) -280 (A)] TJ ET Q';
    const box = only(textPdf([{ content }]), 'Nguyen Van A');
    const advance = helvetica('NguyenVanA', 6) + ((-15 + 5 + 280 - 40 + 280) / 1000) * 6;
    expect(box.x).toBeCloseTo(2 * 40 + 10, 2);
    expect(box.y).toBeCloseTo(2 * (250 - 0.207 * 6) + 20, 2);
    expect(box.width).toBeCloseTo(2 * advance, 1);
    expect(box.height).toBeCloseTo(2 * 0.925 * 6, 2);
  });

  it('honours Tc, Tw, Tz, TL, T*, TD and the quote operators', () => {
    const content =
      'BT /F1 10 Tf 14 TL 100 700 Td (Dong 1) Tj T* (Dong 2) Tj (x) \' 1 0.5 (Dong 3) " 0 -20 TD 150 Tz 0 Tw 0 Tc (Dong 4) Tj ET';
    const doc = PdfDocument.open(textPdf([{ content }]));
    const y = (t: string) => findText(doc, 0, t)[0].y + 0.207 * 10;
    expect(y('Dong 1')).toBeCloseTo(700, 2);
    expect(y('Dong 2')).toBeCloseTo(686, 2);
    expect(y('x')).toBeCloseTo(672, 2);
    expect(y('Dong 3')).toBeCloseTo(658, 2);
    expect(y('Dong 4')).toBeCloseTo(638, 2);
    // Tw 1 widens the space by 1 pt and Tc 0.5 each glyph by 0.5 pt; the box ends at the last glyph.
    expect(findText(doc, 0, 'Dong 3')[0].width).toBeCloseTo(helvetica('Dong 3', 10) + 1 + 5 * 0.5, 2);
    expect(findText(doc, 0, 'Dong 4')[0].width).toBeCloseTo(helvetica('Dong 4', 10) * 1.5, 2);
  });

  it('finds text inside a Form XObject, through its /Matrix', () => {
    const pdf = textPdf([
      {
        content: 'q 1 0 0 1 100 0 cm /Fm1 Do Q',
        form: { content: `BT /F1 10 Tf 0 0 Td ${lit('Le Van C')} Tj ET`, matrix: [1, 0, 0, 1, 0, 500] },
      },
    ]);
    const box = only(pdf, 'Le Van C');
    expect(box.x).toBeCloseTo(100, 2);
    expect(box.y).toBeCloseTo(500 - 2.07, 2);
  });

  it('skips inline image data, whatever bytes it holds', () => {
    const content = `BI /W 4 /H 1 /BPC 8 /CS /G ID (Tj) ]\x00\xff EI BT /F1 12 Tf 50 50 Td ${lit('Sau anh')} Tj ET`;
    expect(only(textPdf([{ content }]), 'Sau anh').x).toBe(50);
  });

  it('returns matches in reading order and lists the words of the page', () => {
    const content = `BT /F1 12 Tf 300 100 Td (Ten) Tj ET BT /F1 12 Tf 100 100 Td (Ten) Tj ET BT /F1 12 Tf 200 500 Td (Ten) Tj ET`;
    const doc = PdfDocument.open(textPdf([{ content, deflate: true }]));
    expect(findText(doc, 0, 'Ten').map((b) => [b.x, Math.round(b.y)])).toEqual([
      [200, 498],
      [100, 98],
      [300, 98],
    ]);
    expect(
      PageText.read(doc, 0)
        .words()
        .map((w) => w.text),
    ).toEqual(['Ten', 'Ten', 'Ten']);
  });

  it('fails closed on malformed content and over its bounds', () => {
    const fails = (content: string, code: string, options = {}) =>
      expect(() => findText(PdfDocument.open(textPdf([{ content }])), 0, 'x', options)).toThrow(
        expect.objectContaining({ code }),
      );
    fails('BT (x) Tj ET', 'syntax');
    fails('BT /F9 12 Tf (x) Tj ET', 'bad-structure');
    fails('BT /F1 12 Tf 1 0 0 Tm ET', 'syntax');
    fails('BT /F1 12 Tf (x) ) Tj ET', 'syntax');
    fails('BI /W 1 ID xyz', 'syntax');
    fails('q '.repeat(300), 'limit');
    fails('0 0 m '.repeat(100), 'limit', { maxOperators: 50 });
    fails('BT /F1 12 Tf (xxxxxxxxxx) Tj ET', 'limit', { maxGlyphs: 5 });
    const selfDrawing = textPdf([{ content: '/Fm1 Do', form: { content: 'q /Fm1 Do Q' } }]);
    expect(() => findText(PdfDocument.open(selfDrawing), 0, 'x')).toThrow(
      expect.objectContaining({ code: 'cycle' }),
    );
    expect(() => findText(PdfDocument.open(selfDrawing), 3, 'x')).toThrow('page index');
    expect(() => findText(PdfDocument.open(selfDrawing), 0, '  ')).toThrow('empty');
  });

  it('maps glyph names by the AGL conventions', () => {
    expect(glyphNameToUnicode('uni1EC5')).toBe('ễ');
    expect(glyphNameToUnicode('u1EC5')).toBe('ễ');
    expect(glyphNameToUnicode('uni004E0067')).toBe('Ng');
    expect(glyphNameToUnicode('f_i')).toBe('fi');
    expect(glyphNameToUnicode('a.sc')).toBe('a');
    expect(glyphNameToUnicode('ohorn')).toBe('ơ');
    expect(glyphNameToUnicode('Eacute')).toBe('É');
    expect(glyphNameToUnicode('quoteright')).toBe('\u2019');
    expect(glyphNameToUnicode('uniD800')).toBe('');
    expect(glyphNameToUnicode('nonsense')).toBe('');
  });

  describeWith(
    fontsPresent ? undefined : 'fonts-liberation2 is not installed',
    'with Liberation fonts',
    () => {
      it('keeps standard-14 widths equal to the metric-compatible Liberation Sans and Serif', () => {
        for (const [file, base] of [
          [SANS, 'Helvetica'],
          [SERIF, 'Times-Roman'],
          [SANS.replace('Regular', 'Bold'), 'Helvetica-Bold'],
          [SERIF.replace('Regular', 'Bold'), 'Times-Bold'],
        ]) {
          const font = parseTrueType(new Uint8Array(readFileSync(file)));
          const metrics = standardMetrics(base);
          for (let c = 0x20; c < 0x7f; c++) {
            const expected = Math.round((font.advanceOf(font.glyphOf(c)) * 1000) / font.unitsPerEm);
            expect(metrics.width(String.fromCharCode(c)), `${base} ${c}`).toBe(expected);
          }
        }
      });

      it('reads an Identity-H Type0 font with a ToUnicode (Vietnamese), boxed from /W and the descriptor', () => {
        const cid = new CidFont(new Uint8Array(readFileSync(SERIF)));
        const content = `BT /F3 14 Tf 300 400 Td ${cid.hex('Ông Nguyễn Văn Án')} Tj ET`;
        const pdf = textPdf([{ content }], { cid });
        const box = only(pdf, 'Nguyễn Văn Án');
        expect(box.x).toBeCloseTo(300 + cid.advance('Ông ', 14), 1);
        expect(box.width).toBeCloseTo(cid.advance('Nguyễn Văn Án', 14), 1);
        expect(findText(PdfDocument.open(pdf), 0, 'Văn A')).toHaveLength(0);
      });

      it('reads a space the ToUnicode leaves out as the gap it makes', () => {
        const cid = new CidFont(new Uint8Array(readFileSync(SERIF)), true);
        const content = `BT /F3 12 Tf 100 100 Td ${cid.hex('Nguyễn Văn Án')} Tj ET`;
        const doc = PdfDocument.open(textPdf([{ content }], { cid }));
        expect(
          PageText.read(doc, 0)
            .words()
            .map((w) => w.text),
        ).toEqual(['Nguyễn', 'Văn', 'Án']);
        expect(findText(doc, 0, 'Nguyễn Văn Án')[0].width).toBeCloseTo(cid.advance('Nguyễn Văn Án', 12), 1);
      });

      it('reads a simple font with /Widths (Times)', () => {
        const serif = parseTrueType(new Uint8Array(readFileSync(SERIF)));
        const pdf = textPdf([{ content: `BT /F2 10 Tf 72 72 Td ${lit('Tran Thi B')} Tj ET` }], {
          times: serif,
        });
        const layout = [...'Tran Thi B'].reduce(
          (w, ch) => w + serif.advanceOf(serif.glyphOf(ch.charCodeAt(0))),
          0,
        );
        expect(only(pdf, 'Tran Thi B').width).toBeCloseTo((layout * 10) / serif.unitsPerEm, 1);
      });
    },
  );
});
