import { deflateSync } from 'node:zlib';
import { layoutText, parseTrueType, subsetFont, type TrueTypeFont } from '../../src/pdf/appearance/font.js';
import { winAnsiEncoding } from '../../src/pdf/text/font-encodings.js';

// PDFs with text laid out the ways generators write it, for the text search and --anchor tests: a
// standard font without /Widths (WinAnsi Helvetica), a simple font with /Widths (Times), a simple font
// with /Differences, and an Identity-H Type0 font with a ToUnicode as LibreOffice and Word embed one.

/** One page: its content stream (latin1) and geometry. */
export interface TextPage {
  content: string;
  mediaBox?: [number, number, number, number];
  cropBox?: [number, number, number, number];
  rotate?: number;
  /** Content of a Form XObject the page may draw as /Fm1. */
  form?: { content: string; matrix?: number[] };
  /** Compress the content stream. */
  deflate?: boolean;
}

/** A TrueType font embedded as Type0/Identity-H; hex() lays text out and records the glyphs it uses. */
export class CidFont {
  readonly font: TrueTypeFont;
  private readonly used = new Map<number, string>();

  /** spaceless: leave the space out of the ToUnicode, as Word sometimes does. */
  constructor(
    bytes: Uint8Array,
    private readonly spaceless = false,
  ) {
    this.font = parseTrueType(bytes);
  }

  /** The text as a hex string of two-byte glyph IDs. */
  hex(text: string): string {
    const layout = layoutText(this.font, text);
    layout.glyphs.forEach((g, i) => {
      this.used.set(g, layout.chars[i]);
    });
    return `<${layout.glyphs.map((g) => g.toString(16).padStart(4, '0')).join('')}>`;
  }

  /** Advance of a text in points at a size. */
  advance(text: string, size: number): number {
    return (layoutText(this.font, text).advance * size) / this.font.unitsPerEm;
  }

  /** The font's objects, numbered from first; returns their bodies (streams as [dict, data]). */
  objects(first: number): (string | [string, Uint8Array])[] {
    const f = this.font;
    const scale = (v: number) => Math.round((v * 1000) / f.unitsPerEm);
    const glyphs = [...this.used.keys()].sort((a, b) => a - b);
    const mapped = glyphs.filter((g) => !(this.spaceless && this.used.get(g) === ' '));
    const program = deflateSync(subsetFont(f, glyphs));
    const utf16 = (s: string) => Buffer.from(s, 'utf16le').swap16().toString('hex');
    const cmap = [
      '/CIDInit /ProcSet findresource begin 12 dict begin begincmap',
      '/CMapName /Adobe-Identity-UCS def /CMapType 2 def',
      '1 begincodespacerange <0000> <FFFF> endcodespacerange',
      `${mapped.length} beginbfchar`,
      ...mapped.map((g) => `<${g.toString(16).padStart(4, '0')}> <${utf16(this.used.get(g)!)}>`),
      'endbfchar endcmap CMapName currentdict /CMap defineresource pop end end',
    ].join('\n');
    const name = `ABCDEF+${f.postScriptName}`;
    return [
      `<< /Type /Font /Subtype /Type0 /BaseFont /${name} /Encoding /Identity-H /DescendantFonts [${first + 1} 0 R] /ToUnicode ${first + 4} 0 R >>`,
      `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${first + 2} 0 R /W [${glyphs.map((g) => `${g} [${scale(f.advanceOf(g))}]`).join(' ')}] /CIDToGIDMap /Identity >>`,
      `<< /Type /FontDescriptor /FontName /${name} /Flags 6 /FontBBox [${f.bbox.map(scale).join(' ')}] /ItalicAngle 0 /Ascent ${scale(f.ascent)} /Descent ${scale(f.descent)} /CapHeight ${scale(f.capHeight)} /StemV 80 /FontFile2 ${first + 3} 0 R >>`,
      [`<< /Length1 ${subsetFont(f, glyphs).length} /Filter /FlateDecode`, new Uint8Array(program)],
      ['<<', new Uint8Array(Buffer.from(cmap, 'latin1'))],
    ];
  }
}

/** /Widths for codes 32–255 in WinAnsi, from a TrueType font (Liberation Serif is metric-compatible with Times). */
function winAnsiWidths(f: TrueTypeFont): string {
  const out: number[] = [];
  for (let c = 32; c <= 255; c++) {
    const g = f.glyphOf(winAnsiEncoding(c).codePointAt(0) ?? 0);
    out.push(Math.round((f.advanceOf(g) * 1000) / f.unitsPerEm));
  }
  return out.join(' ');
}

/**
 * A PDF whose pages use /F1 Helvetica (WinAnsi, no /Widths), /F2 Times-Roman (WinAnsi with /Widths from
 * `times`), /F3 the CID font, /F4 Helvetica with /Differences (0x80 /uni1EC5 ễ, 0x81 /abreve ă, 0x82
 * /Dcroat Đ, and the combining marks 0x83 /uni0302 and 0x84 /tildecomb), /F5 a Type 1 font with a built-in
 * encoding (A is ễ, B a period) and, where a page has a form, /Fm1.
 */
export function textPdf(pages: TextPage[], fonts: { cid?: CidFont; times?: TrueTypeFont } = {}): Uint8Array {
  const objects: (string | [string, Uint8Array])[] = [];
  const add = (body: string | [string, Uint8Array]) => objects.push(body);
  add(''); // 1 catalog
  add(''); // 2 pages
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'); // 3
  add(
    fonts.times
      ? `<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 255 /Widths [${winAnsiWidths(fonts.times)}] >>`
      : '<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding >>',
  ); // 4
  add(
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [128 /uni1EC5 /abreve /Dcroat /uni0302 /tildecomb] >> >>',
  ); // 5
  // 6–8: a Type 1 font whose program carries its own encoding (as TeX's fonts do); not a real font.
  add('<< /Type /Font /Subtype /Type1 /BaseFont /ABCDEF+KysoBuiltIn /FontDescriptor 7 0 R >>');
  add('<< /Type /FontDescriptor /FontName /ABCDEF+KysoBuiltIn /Flags 4 /FontFile 8 0 R >>');
  const program =
    '%!PS-AdobeFont-1.0: KysoBuiltIn\n/Encoding 256 array\n0 1 255 {1 index exch /.notdef put} for\ndup 65 /uni1EC5 put\ndup 66 /period put\nreadonly def\ncurrentfile eexec\n';
  add([
    `<< /Length1 ${program.length} /Length2 0 /Length3 0`,
    new Uint8Array(Buffer.from(program, 'latin1')),
  ]);
  let fontRefs = '/F1 3 0 R /F2 4 0 R /F4 5 0 R /F5 6 0 R';
  if (fonts.cid) {
    fontRefs += ` /F3 ${objects.length + 1} 0 R`;
    for (const o of fonts.cid.objects(objects.length + 1)) add(o);
  }
  const kids: number[] = [];
  for (const page of pages) {
    const data = Buffer.from(page.content, 'latin1');
    const body = page.deflate ? deflateSync(data) : data;
    add([page.deflate ? '<< /Filter /FlateDecode' : '<<', new Uint8Array(body)]);
    const content = objects.length;
    let xobjects = '';
    if (page.form) {
      const matrix = page.form.matrix ? ` /Matrix [${page.form.matrix.join(' ')}]` : '';
      add([
        // The form can draw itself as /Fm1, to test that recursion is refused.
        `<< /Type /XObject /Subtype /Form /BBox [0 0 2000 2000]${matrix} /Resources << /Font << ${fontRefs} >> /XObject << /Fm1 ${objects.length + 1} 0 R >> >>`,
        new Uint8Array(Buffer.from(page.form.content, 'latin1')),
      ]);
      xobjects = ` /XObject << /Fm1 ${objects.length} 0 R >>`;
    }
    const box = (k: string, b?: number[]) => (b ? ` /${k} [${b.join(' ')}]` : '');
    add(
      `<< /Type /Page /Parent 2 0 R${box('MediaBox', page.mediaBox)}${box('CropBox', page.cropBox)}${page.rotate ? ` /Rotate ${page.rotate}` : ''} /Resources << /Font << ${fontRefs} >>${xobjects} >> /Contents ${content} 0 R >>`,
    );
    kids.push(objects.length);
  }
  objects[0] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} /MediaBox [0 0 595 842] >>`;

  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0].length;
  const push = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    if (typeof body === 'string') push(Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, 'latin1'));
    else {
      push(Buffer.from(`${i + 1} 0 obj\n${body[0]} /Length ${body[1].length} >>\nstream\n`, 'latin1'));
      push(Buffer.from(body[1]));
      push(Buffer.from('\nendstream\nendobj\n', 'latin1'));
    }
  });
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) tail += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /ID [<4B59534F> <4B59534F>] >>\nstartxref\n${length}\n%%EOF\n`;
  push(Buffer.from(tail, 'latin1'));
  return new Uint8Array(Buffer.concat(parts));
}

/** A PDF literal string of latin1 text, with the delimiters escaped. */
export const lit = (s: string) => `(${s.replace(/[()\\]/g, '\\$&')})`;

/** Word boxes from `pdftotext -bbox-layout` (top-left origin of the page as shown). */
export function popplerWords(
  html: string,
): { text: string; xMin: number; yMin: number; xMax: number; yMax: number }[] {
  const out = [];
  for (const m of html.matchAll(
    /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g,
  ))
    out.push({
      text: m[5]
        .replace(/&amp;/g, '&')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .normalize('NFC'),
      xMin: Number(m[1]),
      yMin: Number(m[2]),
      xMax: Number(m[3]),
      yMax: Number(m[4]),
    });
  return out;
}
