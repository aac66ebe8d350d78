import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AppearanceRect, pageView } from '../../src/pdf/appearance/appearance.js';
import { anchorAppearance, findText, PdfDocument, type PdfValue, signPdf } from '../../src/pdf/index.js';
import { numberValue } from '../../src/pdf/syntax/index.js';
import { crc32, decodePng } from '../../src/pdf/syntax/png.js';
import { toPem } from '../../src/pki/index.js';
import { describeWith, kyso, run, tempDir, toolMissing } from '../support/env.js';
import { makeKey, makePki, signerOf, type TestKey, type TestPki } from './pki.js';
import { discPng, strokePng } from './png-writer.js';
import { CidFont, lit, popplerWords, textPdf } from './text-pdf.js';
import { pdfsig, qpdfCheck } from './tools.js';

// --anchor: the text search is checked against poppler's word boxes (pdftotext -bbox-layout) on PDFs
// written four ways, then signatures placed by it are checked for the Decree 30/2020 layout and by qpdf
// and pdfsig.

const SERIF = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf';
const NAME = 'Nguyễn Văn An';
const BLUE: [number, number, number] = [20, 40, 200];
const RED: [number, number, number] = [220, 20, 20];
/** How far our boxes may be from poppler's, in points. */
const TOLERANCE = 1.5;

/** The four pages: each a signing block, the title above the name, written a different way. */
function signingBlocks(cid: CidFont, serif: Uint8Array) {
  const split = `[${cid.hex('Ngu')} 20 ${cid.hex('yễn')} -260 ${cid.hex('V')} 35 ${cid.hex('ăn')} -260 ${cid.hex('An')}] TJ`;
  const pages = [
    // (a) WinAnsi Helvetica title, Times name with /Widths; "Noi nhan" on the name's line, left.
    {
      content: [
        `BT /F1 12 Tf 390 700 Td ${lit('GIAM DOC')} Tj ET`,
        `BT /F1 11 Tf 60 600 Td ${lit('Noi nhan:')} Tj ET`,
        `BT /F2 13 Tf 370 600 Td ${lit('Nguyen Van An')} Tj ET`,
      ].join('\n'),
      anchor: 'Nguyen Van An',
      title: 'GIAM DOC',
    },
    // (b) Identity-H Type0 with a ToUnicode, Vietnamese, compressed.
    {
      content: [
        `BT /F3 13 Tf 360 720 Td ${cid.hex('GIÁM ĐỐC')} Tj ET`,
        `BT /F3 11 Tf 60 640 Td ${cid.hex('Nơi nhận:')} Tj ET`,
        `BT /F3 13 Tf 350 640 Td ${cid.hex(NAME)} Tj ET`,
      ].join('\n'),
      deflate: true,
      anchor: NAME,
      title: 'GIÁM ĐỐC',
    },
    // (c) the name in TJ pieces with kerning and spaces as positioning, under a scaling cm and a Tm.
    {
      content: [
        `q 0.5 0 0 0.5 100 100 cm BT /F3 28 Tf 1 0 0 1 520 1100 Tm ${cid.hex('CHỦ TỊCH')} Tj ET Q`,
        `q 0.5 0 0 0.5 100 100 cm BT /F3 26 Tf 1.1 0 0 1 500 940 Tm ${split} ET Q`,
      ].join('\n'),
      anchor: NAME,
      title: 'CHỦ TỊCH',
    },
    // (d) a landscape page: portrait MediaBox, /Rotate 90 and content turned to read upright.
    {
      content: [
        'q 0 1 -1 0 595 0 cm',
        `BT /F3 13 Tf 560 260 Td ${cid.hex('KT. GIÁM ĐỐC')} Tj ET`,
        `BT /F3 13 Tf 550 170 Td ${cid.hex(NAME)} Tj ET`,
        'Q',
      ].join('\n'),
      rotate: 90,
      anchor: NAME,
      title: 'KT.',
    },
  ];
  return { pages, pdf: textPdf(pages, { cid, times: undefined }), serif };
}

/** A PNG with a pHYs chunk giving its resolution in dots per inch. */
function withResolution(png: Uint8Array, dpi: number): Uint8Array {
  const perMetre = Math.round(dpi / 0.0254);
  const data = Buffer.alloc(9);
  data.writeUInt32BE(perMetre, 0);
  data.writeUInt32BE(perMetre, 4);
  data[8] = 1;
  const chunk = Buffer.alloc(21);
  chunk.writeUInt32BE(9, 0);
  chunk.write('pHYs', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 17)), 17);
  // After the signature and IHDR (8 + 25 bytes).
  return new Uint8Array(Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]));
}

describeWith(
  toolMissing('pdftotext', 'pdftoppm', 'qpdf', 'pdfsig') ??
    (existsSync(SERIF) ? undefined : `${SERIF} is missing`),
  '--anchor: text found where poppler finds it, signatures placed as Decree 30/2020 lays them out',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let pki: TestPki;
    let key: TestKey;
    let cert: Uint8Array;
    let blocks: ReturnType<typeof signingBlocks>;
    const at = (name: string) => path.join(tmp.dir, name);

    beforeAll(async () => {
      tmp = tempDir('kyso-pdf-anchor-');
      pki = await makePki();
      key = makeKey('ec');
      cert = await pki.leaf(key, NAME);
      const serif = new Uint8Array(readFileSync(SERIF));
      blocks = signingBlocks(new CidFont(serif), serif);
      writeFileSync(at('blocks.pdf'), blocks.pdf);
    });
    afterAll(() => tmp.remove());

    /** A text's box as the page shows it (view coordinates, bottom-left origin). */
    function viewBox(doc: PdfDocument, page: number, text: string): AppearanceRect {
      const found = findText(doc, page, text);
      expect(found.length, text).toBeGreaterThan(0);
      const b = found[found.length - 1];
      return pageView(doc.pages()[page]).toView([b.x, b.y, b.x + b.width, b.y + b.height]);
    }

    /** The union of poppler's boxes for the words of a text on its line, in view coordinates. */
    function popplerBox(page: number, text: string, near: AppearanceRect): AppearanceRect {
      const html = run('pdftotext', [
        '-bbox-layout',
        '-f',
        String(page + 1),
        '-l',
        String(page + 1),
        at('blocks.pdf'),
        '-',
      ]);
      expect(html.code, html.stderr).toBe(0);
      // Poppler gives boxes in the page as shown, from its top-left corner (its <page> keeps the unrotated size).
      const height = pageView(PdfDocument.open(blocks.pdf).pages()[page]).height;
      const parts = text.split(' ');
      const words = popplerWords(html.stdout)
        .map((w) => ({ ...w, y0: height - w.yMax, y1: height - w.yMin }))
        .filter((w) => parts.includes(w.text) && Math.abs(w.y0 - near[1]) < 5);
      expect(words.map((w) => w.text).sort(), html.stdout).toEqual([...parts].sort());
      const x0 = Math.min(...words.map((w) => w.xMin));
      const y0 = Math.min(...words.map((w) => w.y0));
      return [x0, y0, Math.max(...words.map((w) => w.xMax)) - x0, Math.max(...words.map((w) => w.y1)) - y0];
    }

    const labels = [
      'WinAnsi Helvetica and Times',
      'Identity-H Type0, Vietnamese',
      'TJ pieces under cm and Tm',
      'a page with /Rotate 90',
    ];
    labels.forEach((label, page) => {
      it(`finds the name and the title where poppler does: ${label}`, () => {
        const doc = PdfDocument.open(blocks.pdf);
        const { anchor, title } = blocks.pages[page];
        for (const text of [anchor, title]) {
          const ours = viewBox(doc, page, text);
          const theirs = popplerBox(page, text, ours);
          for (let i = 0; i < 4; i++)
            expect(Math.abs(ours[i] - theirs[i]), `${text} [${ours}] vs [${theirs}]`).toBeLessThan(TOLERANCE);
        }
      });
    });

    /** The widget /Rect of the signature at index, in the page's view. */
    function widgetRect(signed: Uint8Array, index: number, page: number): AppearanceRect {
      const doc = PdfDocument.open(signed);
      const field = doc.signatureFields()[index];
      const [a, b, c, d] = (doc.get(field.dict, 'Rect') as PdfValue[]).map((v) => numberValue(v)!);
      expect(field.dict.get('P')).toEqual(doc.pages()[page].ref);
      return pageView(doc.pages()[page]).toView([a, b, c, d]);
    }

    /** Blue pixels of the page as pdftoppm renders it (50 dpi), inside a rect of the page as shown. */
    function bluePixels(pdf: Uint8Array, page: number, [x, y, w, h]: AppearanceRect, label: string): number {
      const file = at(`${label}-render.pdf`);
      writeFileSync(file, pdf);
      const prefix = at(`${label}-render`);
      const r = run('pdftoppm', [
        '-r',
        '50',
        '-png',
        '-f',
        String(page + 1),
        '-l',
        String(page + 1),
        '-singlefile',
        file,
        prefix,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const img = decodePng(new Uint8Array(readFileSync(`${prefix}.png`)));
      const s = 50 / 72;
      const height = img.height / s;
      let count = 0;
      for (let py = Math.ceil((height - y - h) * s); py < Math.floor((height - y) * s); py++)
        for (let px = Math.ceil(x * s); px < Math.floor((x + w) * s); px++) {
          const i = (py * img.width + px) * 3;
          const [red, green, b] = [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]];
          if (b > 120 && b > red + 60 && b > green + 60) count++;
        }
      return count;
    }

    function checkedByTools(signed: Uint8Array, label: string, count: number) {
      const q = qpdfCheck(tmp.dir, signed, label);
      expect(q.ok, q.output).toBe(true);
      const p = pdfsig(tmp.dir, signed, label);
      expect(p.signatures, p.output).toHaveLength(count);
      for (const s of p.signatures) expect(s.validation, p.output).toBe('Signature is Valid.');
    }

    labels.forEach((label, page) => {
      it(`places the leader's image above the name, centred, below the title: ${label}`, async () => {
        const { anchor, title } = blocks.pages[page];
        const doc = PdfDocument.open(blocks.pdf);
        const png = strokePng(300, 120, BLUE);
        const placed = anchorAppearance(doc, { kind: 'image', png, text: anchor, page: page + 1 });
        const signed = await signPdf(blocks.pdf, {
          signer: signerOf(key, 'ECDSA-SHA256'),
          certificate: cert,
          chain: [pki.issuing],
          appearance: placed.appearance,
          contentsSize: 8192,
        });
        checkedByTools(signed, `leader-${page}`, 1);
        const [x, y, w, h] = widgetRect(signed, 0, page);
        const name = viewBox(doc, page, anchor);
        const titleBox = viewBox(doc, page, title);
        expect(placed.anchor.map((v) => Math.round(v))).toEqual(name.map((v) => Math.round(v)));
        expect(Math.abs(x + w / 2 - (name[0] + name[2] / 2))).toBeLessThan(0.5);
        expect(y).toBeGreaterThanOrEqual(name[1] + name[3]);
        expect(y + h).toBeLessThanOrEqual(titleBox[1]);
        expect(w).toBeLessThanOrEqual(150.01);
        // The image's own proportions (5:2), so nothing is letter-boxed.
        expect(w / h).toBeCloseTo(2.5, 2);
        // As poppler draws it: blue inside the rect, none over the name or the title.
        const blue = (r: AppearanceRect) => bluePixels(signed, page, r, `leader-${page}`);
        expect(blue([x, y, w, h])).toBeGreaterThan(100);
        expect(blue(name)).toBe(0);
        expect(blue(titleBox)).toBe(0);
      });
    });

    it('the seal goes over the left third of the leader image already there, at the size its pHYs gives', async () => {
      const sign = (pdf: Uint8Array, appearance: ReturnType<typeof anchorAppearance>['appearance']) =>
        signPdf(pdf, {
          signer: signerOf(key, 'ECDSA-SHA256'),
          certificate: cert,
          appearance,
          contentsSize: 8192,
        });
      const leaderPng = strokePng(200, 100, BLUE);
      const leaderPlaced = anchorAppearance(PdfDocument.open(blocks.pdf), {
        kind: 'image',
        png: leaderPng,
        text: NAME,
      });
      // Searched from the last page back: the rotated page 4 has the name.
      expect(leaderPlaced.page).toBe(4);
      const leader = await sign(blocks.pdf, leaderPlaced.appearance);
      const seal = withResolution(discPng(120, RED), 300);
      const sealPlaced = anchorAppearance(PdfDocument.open(leader), { kind: 'seal', png: seal, text: NAME });
      const sealed = await sign(leader, sealPlaced.appearance);
      checkedByTools(sealed, 'sealed', 2);
      const [lx, ly, lw, lh] = widgetRect(sealed, 0, 3);
      const [sx, sy, sw, sh] = widgetRect(sealed, 1, 3);
      // 120 px at 300 dpi is 28.8 pt.
      expect(sw).toBeCloseTo(28.8, 1);
      expect(sh).toBeCloseTo(28.8, 1);
      expect(sx + sw).toBeCloseTo(lx + lw / 3, 1);
      expect(sy + sh / 2).toBeCloseTo(ly + lh / 2, 1);
    });

    it('refuses a text that is not there, naming the page', () => {
      const doc = PdfDocument.open(blocks.pdf);
      const png = strokePng(30, 10, BLUE);
      expect(() => anchorAppearance(doc, { kind: 'image', png, text: 'Trần Thị B' })).toThrow(
        expect.objectContaining({ code: 'anchor-not-found', message: expect.stringContaining('any page') }),
      );
      expect(() => anchorAppearance(doc, { kind: 'image', png, text: 'GIAM DOC', page: 2 })).toThrow(
        'page 2',
      );
      expect(() => anchorAppearance(doc, { kind: 'image', png, text: NAME, page: 9 })).toThrow(
        'page must be',
      );
    });

    describeWith(toolMissing('openssl'), 'kyso pdf sign --anchor', () => {
      let keyPem: string;
      let certPem: string;
      beforeAll(() => {
        keyPem = at('leader.key');
        certPem = at('leader.crt');
        writeFileSync(keyPem, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
        writeFileSync(certPem, toPem('CERTIFICATE', cert));
        writeFileSync(at('signature.png'), strokePng(300, 120, BLUE));
        writeFileSync(at('seal.png'), discPng(120, RED));
      });
      const sign = (input: string, out: string, ...extra: string[]) =>
        kyso(['pdf', 'sign', input, '--out', at(out), '--key', keyPem, '--cert', certPem, ...extra]);

      it('signs above the name on the page asked for, then seals over it; --size sets the size', () => {
        const a = sign(
          at('blocks.pdf'),
          'cli-leader.pdf',
          '--image',
          at('signature.png'),
          '--anchor',
          NAME,
          '--page',
          '2',
        );
        expect(a.code, a.stderr).toBe(0);
        const leader = new Uint8Array(readFileSync(at('cli-leader.pdf')));
        const [x, y, w] = widgetRect(leader, 0, 1);
        const name = viewBox(PdfDocument.open(blocks.pdf), 1, NAME);
        expect(Math.abs(x + w / 2 - (name[0] + name[2] / 2))).toBeLessThan(0.5);
        expect(y).toBeGreaterThan(name[1] + name[3]);
        const b = sign(
          at('cli-leader.pdf'),
          'cli-sealed.pdf',
          '--seal',
          '--image',
          at('seal.png'),
          '--anchor',
          NAME,
          '--page',
          '2',
          '--size',
          '90,90',
        );
        expect(b.code, b.stderr).toBe(0);
        const sealed = new Uint8Array(readFileSync(at('cli-sealed.pdf')));
        checkedByTools(sealed, 'cli-sealed', 2);
        const [sx, , sw, sh] = widgetRect(sealed, 1, 1);
        expect([sw, sh]).toEqual([90, 90]);
        expect(sx + sw).toBeCloseTo(x + w / 3, 1);
      });

      it('exits 1 with one line when the text is not found, 2 for a bad --size', () => {
        const missing = sign(
          at('blocks.pdf'),
          'x.pdf',
          '--image',
          at('signature.png'),
          '--anchor',
          'Trần Thị B',
        );
        expect(missing.code).toBe(1);
        expect(missing.stderr).toMatch(
          /^kyso: .*: the text "Trần Thị B" is not on any page \(anchor-not-found\)\n$/,
        );
        const wrongPage = sign(
          at('blocks.pdf'),
          'x.pdf',
          '--image',
          at('signature.png'),
          '--anchor',
          NAME,
          '--page',
          '1',
        );
        expect(wrongPage.code).toBe(1);
        expect(wrongPage.stderr).toMatch(/is not on page 1/);
        const badSize = sign(
          at('blocks.pdf'),
          'x.pdf',
          '--image',
          at('signature.png'),
          '--anchor',
          NAME,
          '--size',
          '0,4',
        );
        expect(badSize.code).toBe(3);
      });
    });
  },
);
