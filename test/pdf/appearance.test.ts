import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PdfValue, SignatureAppearance } from '../../src/pdf/index.js';
import {
  PdfDict,
  PdfDocument,
  PdfStream,
  prepareSignature,
  signPdf,
  verifyPdf,
} from '../../src/pdf/index.js';
import { numberValue } from '../../src/pdf/syntax/index.js';
import { type DecodedImage, decodePng } from '../../src/pdf/syntax/png.js';
import { describeWith, run, tempDir, toolMissing } from '../support/env.js';
import { minimalPdf, qpdf, variants } from './fixtures.js';
import { makeKey, makePki, signerOf, type TestKey, type TestPki } from './pki.js';
import { discPng, strokePng, writePng } from './png-writer.js';
import { pdfsig, qpdfCheck } from './tools.js';

const SERIF = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf';
const DPI = 50;
const PAGE_HEIGHT = 842;
const BLUE: [number, number, number] = [20, 40, 200];
const RED: [number, number, number] = [220, 20, 20];
const STAMP = 'Số: 15/QĐ-BNV; 2026-11-26T10:00:00+07:00';

type Rgb = [number, number, number];

describeWith(
  toolMissing('pdfsig', 'qpdf', 'pdftoppm', 'pdftotext') ??
    (readable(SERIF) ? undefined : `${SERIF} is missing`),
  'visible signatures (Decree 30/2020), checked by qpdf, pdfsig and poppler rendering',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let pki: TestPki;
    let key: TestKey;
    let cert: Uint8Array;
    let font: Uint8Array;
    let layouts: ReturnType<typeof variants>;

    beforeAll(async () => {
      tmp = tempDir('kyso-pdf-appearance-');
      pki = await makePki();
      key = makeKey('ec');
      cert = await pki.leaf(key, 'Nguyễn Văn An');
      font = new Uint8Array(readFileSync(SERIF));
      layouts = variants(tmp.dir, minimalPdf({ pages: 3 }));
    });
    afterAll(() => tmp.remove());

    const sign = (pdf: Uint8Array, appearance: SignatureAppearance) =>
      signPdf(pdf, {
        signer: signerOf(key, 'ECDSA-SHA256'),
        certificate: cert,
        chain: [pki.issuing],
        appearance,
        contentsSize: 8192,
      });

    /** qpdf clean, pdfsig valid for every signature, our integrity checks pass, earlier bytes kept. */
    async function expectValid(before: Uint8Array, signed: Uint8Array, label: string, count: number) {
      expect(Buffer.compare(signed.subarray(0, before.length), before)).toBe(0);
      const q = qpdfCheck(tmp.dir, signed, label);
      expect(q.ok, q.output).toBe(true);
      const ps = pdfsig(tmp.dir, signed, label);
      expect(ps.signatures, ps.output).toHaveLength(count);
      for (const s of ps.signatures) expect(s.validation, ps.output).toBe('Signature is Valid.');
      const report = await verifyPdf(signed);
      expect(report.signatures).toHaveLength(count);
      for (const s of report.signatures)
        expect(s.integrity).toEqual({ byteRange: 'passed', digest: 'passed', signature: 'passed' });
    }

    /** The page rendered by pdftoppm at 50 dpi, decoded by our own PNG reader. */
    function render(pdf: Uint8Array, page: number, label: string): DecodedImage {
      const file = path.join(tmp.dir, `${label}.pdf`);
      writeFileSync(file, pdf);
      const prefix = path.join(tmp.dir, `${label}-render`);
      const r = run('pdftoppm', [
        '-r',
        String(DPI),
        '-png',
        '-f',
        String(page),
        '-l',
        String(page),
        '-singlefile',
        file,
        prefix,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return decodePng(new Uint8Array(readFileSync(`${prefix}.png`)));
    }

    /** The pixels of a rendered page inside a rectangle given in points from the bottom-left. */
    function pixelsIn(
      img: DecodedImage,
      [x, y, w, h]: [number, number, number, number],
      pageHeight = PAGE_HEIGHT,
    ): Rgb[] {
      const s = DPI / 72;
      const out: Rgb[] = [];
      const channels = img.colorSpace === 'DeviceRGB' ? 3 : 1;
      for (let py = Math.ceil((pageHeight - y - h) * s); py < Math.floor((pageHeight - y) * s); py++)
        for (let px = Math.ceil(x * s); px < Math.floor((x + w) * s); px++) {
          const at = (py * img.width + px) * channels;
          out.push(
            channels === 3
              ? [img.pixels[at], img.pixels[at + 1], img.pixels[at + 2]]
              : [img.pixels[at], img.pixels[at], img.pixels[at]],
          );
        }
      return out;
    }
    const isBlue = ([r, g, b]: Rgb) => b > 120 && b > r + 60 && b > g + 60;
    const isRed = ([r, g, b]: Rgb) => r > 120 && r > g + 60 && r > b + 60;
    const isWhite = ([r, g, b]: Rgb) => r > 240 && g > 240 && b > 240;
    const isDark = ([r, g, b]: Rgb) => r < 110 && g < 110 && b < 110;

    for (const layout of ['classic', 'xref-stream'] as const) {
      it(`draws a transparent blue signature image in its rect on page 2 of a ${layout} PDF`, async () => {
        const before = layouts[layout];
        const rect: [number, number, number, number] = [300, 150, 240, 80];
        const signed = await sign(before, { kind: 'image', png: strokePng(240, 80, BLUE), page: 2, rect });
        await expectValid(before, signed, `image-${layout}`, 1);
        const doc = PdfDocument.open(signed);
        const [field] = doc.signatureFields();
        expect(doc.pages()[1].dict.get('Annots')).toEqual([field.ref]);
        expect(doc.get(field.dict, 'Rect')).toEqual([300, 150, 540, 230]);
        expect(field.dict.get('P')).toEqual(doc.pages()[1].ref);
        const ap = doc.get(field.dict, 'AP');
        expect(ap).toBeInstanceOf(PdfDict);
        expect(doc.get(ap as PdfDict, 'N')).toBeInstanceOf(PdfStream);
        const inside = pixelsIn(render(signed, 2, `image-${layout}`), rect);
        const blue = inside.filter(isBlue).length;
        expect(blue).toBeGreaterThan(inside.length / 20);
        // The background is transparent: most of the rect stays white.
        expect(inside.filter(isWhite).length).toBeGreaterThan(inside.length / 2);
        // Nothing blue outside the rect.
        const page = render(before, 2, `image-${layout}-before`);
        expect(pixelsIn(page, rect).filter(isBlue)).toHaveLength(0);
      });
    }

    it('keeps aspect ratio: a wide image in a tall rect is centred with empty bands above and below', async () => {
      const rect: [number, number, number, number] = [100, 100, 120, 240];
      const signed = await sign(layouts.classic, { kind: 'image', png: solidPng(), page: 1, rect });
      const img = render(signed, 1, 'aspect');
      // Drawn 120 × 60 at y 190–250; the bands 100–180 and 260–340 stay white.
      expect(pixelsIn(img, [104, 195, 112, 50]).every(isBlue)).toBe(true);
      expect(pixelsIn(img, [104, 104, 112, 70]).every(isWhite)).toBe(true);
      expect(pixelsIn(img, [104, 265, 112, 70]).every(isWhite)).toBe(true);
    });

    for (const rotate of [90, 180, 270]) {
      it(`on a page with /Rotate ${rotate}, takes the rect as shown and draws upright; the stamp goes top-right as shown`, async () => {
        const before = qpdf(tmp.dir, layouts.classic, [`--rotate=+${rotate}:1`], `rotate-${rotate}`);
        const shownHeight = rotate === 180 ? 842 : 595;
        const shownWidth = rotate === 180 ? 595 : 842;
        const leader = await sign(before, {
          kind: 'image',
          png: solidPng(),
          page: 1,
          rect: [300, 200, 120, 240],
        });
        const signed = await sign(leader, { kind: 'stamp', text: STAMP, font });
        await expectValid(before, signed, `rotate-${rotate}`, 2);
        const img = render(signed, 1, `rotate-${rotate}`);
        expect(Math.abs(img.width - (shownWidth * DPI) / 72)).toBeLessThan(1);
        // The 2:1 image, drawn upright, fills the middle band of the tall rect only (the rect avoids the
        // page's own text in every orientation).
        expect(pixelsIn(img, [304, 295, 112, 50], shownHeight).every(isBlue)).toBe(true);
        expect(pixelsIn(img, [304, 204, 112, 70], shownHeight).every(isWhite)).toBe(true);
        expect(pixelsIn(img, [304, 365, 112, 70], shownHeight).every(isWhite)).toBe(true);
        const stampBox: [number, number, number, number] = [shownWidth - 260, shownHeight - 40, 240, 20];
        expect(pixelsIn(img, stampBox, shownHeight).filter(isDark).length).toBeGreaterThan(20);
        const text = run('pdftotext', [
          '-f',
          '1',
          '-l',
          '1',
          path.join(tmp.dir, `rotate-${rotate}.pdf`),
          '-',
        ]);
        expect(text.stdout.normalize('NFC')).toContain(STAMP);
      });
    }

    it('leader then seal on the last page: both signatures stay valid, the red seal overlaps the blue image', async () => {
      const before = layouts.classic;
      const imageRect: [number, number, number, number] = [300, 150, 240, 80];
      const leader = await sign(before, {
        kind: 'image',
        png: strokePng(240, 80, BLUE),
        page: -1,
        rect: imageRect,
      });
      // The seal covers about the left third of the signature image (Decree 30/2020).
      const sealRect: [number, number, number, number] = [260, 130, 120, 120];
      const sealed = await sign(leader, { kind: 'seal', png: discPng(120, RED), page: -1, rect: sealRect });
      await expectValid(before, sealed, 'seal', 2);
      const doc = PdfDocument.open(sealed);
      const fields = doc.signatureFields();
      expect(doc.pages()[2].dict.get('Annots')).toEqual(fields.map((f) => f.ref));
      const img = render(sealed, 3, 'seal');
      expect(pixelsIn(img, [300, 170, 60, 40]).filter(isRed).length).toBeGreaterThan(100);
      expect(pixelsIn(img, [400, 150, 140, 80]).filter(isBlue).length).toBeGreaterThan(50);
      const verified = await verifyPdf(sealed);
      expect(verified.signatures.map((s) => s.coversWholeFile)).toEqual([false, true]);
    });

    it('stamps "number/symbol; signing time" in black top-right of page 1, in an embedded font that extracts', async () => {
      const before = layouts['xref-stream'];
      const signed = await sign(before, { kind: 'stamp', text: STAMP, font });
      await expectValid(before, signed, 'stamp', 1);
      const doc = PdfDocument.open(signed);
      const [field] = doc.signatureFields();
      const [x1, y1, x2, y2] = (doc.get(field.dict, 'Rect') as PdfValue[]).map((v) => numberValue(v)!);
      // Top-right, 20 pt in, one 10-pt line high, wide enough for the text in Times metrics.
      expect(x2).toBe(575);
      expect(y2).toBe(822);
      expect(y2 - y1).toBeGreaterThan(10);
      expect(y2 - y1).toBeLessThan(20);
      expect(x2 - x1).toBeGreaterThan(150);
      expect(x2 - x1).toBeLessThan(260);
      const img = render(signed, 1, 'stamp');
      const box = pixelsIn(img, [x1, y1, x2 - x1, y2 - y1]);
      expect(box.filter(isDark).length).toBeGreaterThan(20);
      expect(pixelsIn(render(before, 1, 'stamp-before'), [x1, y1, x2 - x1, y2 - y1]).every(isWhite)).toBe(
        true,
      );
      const file = path.join(tmp.dir, 'stamp.pdf');
      const text = run('pdftotext', ['-f', '1', '-l', '1', file, '-']);
      expect(text.stdout.normalize('NFC')).toContain(STAMP);
      const fonts = run('pdffonts', [file]);
      if (fonts.code === 0) expect(fonts.stdout).toMatch(/LiberationSerif\s+CID TrueType\s+Identity-H\s+yes/);
    });

    it('a stamp after a leader signature keeps the first valid, on a linearized PDF', async () => {
      const before = layouts.linearized;
      const leader = await sign(before, {
        kind: 'image',
        png: strokePng(120, 40, BLUE),
        page: 1,
        rect: [72, 72, 120, 40],
      });
      const copy = await sign(leader, { kind: 'stamp', text: STAMP, font, size: 10 });
      await expectValid(before, copy, 'leader-stamp', 2);
      expect(PdfDocument.open(copy).pages()[0].dict.get('Annots')).toHaveLength(2);
    });

    it('refuses a page out of range, a rect off the page, an interlaced PNG and a glyph the font lacks', async () => {
      const png = strokePng(20, 10, BLUE);
      const pdf = layouts.classic;
      expect(() =>
        prepareSignature(pdf, { appearance: { kind: 'image', png, page: 4, rect: [0, 0, 10, 10] } }),
      ).toThrow('appearance page must be from 1 to 3');
      expect(() =>
        prepareSignature(pdf, { appearance: { kind: 'image', png, page: 1, rect: [500, 800, 200, 100] } }),
      ).toThrow('within the page');
      expect(() =>
        prepareSignature(pdf, { appearance: { kind: 'seal', png, page: 1, rect: [0, 0, 0, 10] } }),
      ).toThrow('positive width');
      const interlaced = writePng({
        width: 1,
        height: 1,
        colorType: 0,
        rows: Uint8Array.of(0),
        interlace: true,
      });
      expect(() =>
        prepareSignature(pdf, {
          appearance: { kind: 'image', png: interlaced, page: 1, rect: [0, 0, 10, 10] },
        }),
      ).toThrow(expect.objectContaining({ code: 'unsupported' }));
      expect(() => prepareSignature(pdf, { appearance: { kind: 'stamp', text: 'ký ✍', font } })).toThrow(
        'no glyph',
      );
      expect(() =>
        prepareSignature(pdf, { appearance: { kind: 'stamp', text: 'x'.repeat(200), font } }),
      ).toThrow('does not fit');
    });
  },
);

/** An opaque blue image twice as wide as it is tall. */
function solidPng(): Uint8Array {
  return writePng({ width: 4, height: 2, colorType: 2, rows: new Uint8Array(24).map((_, i) => BLUE[i % 3]) });
}

function readable(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}
