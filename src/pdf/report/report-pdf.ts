import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import {
  embedFont,
  layoutText,
  type ObjectSink,
  parseTrueType,
  type TrueTypeFont,
} from '../appearance/index.js';
import { PdfError } from '../errors.js';
import {
  ByteWriter,
  dict,
  encodeText,
  formatNumber,
  formatPdfDate,
  name,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
  writeValue,
} from '../syntax/index.js';
import type { Verdict, VerificationReport } from './report.js';
import { type Lang, type ReportRow, reportContent, vietnamTime } from './report-text.js';

// The verification report as a PDF a clerk can print or file with the incoming document: the rows of the
// text report (report-text.ts), laid out on A4 with embedded subset fonts so Vietnamese text extracts.

/** What the PDF report needs besides the report itself. */
export interface ReportPdfOptions {
  /** The verified file's name, as the text report shows it. */
  file: string;
  /** SHA-256 of the verified file's bytes, in hex: what the report speaks about. */
  sha256: string;
  lang: Lang;
  /** TrueType fonts covering Vietnamese; without a bold face, headings are drawn bold from the regular. */
  fonts: { regular: Uint8Array; bold?: Uint8Array };
  /** When the verification ran; shown in Vietnam time. */
  checkedAt: Date;
  /** Who checked, e.g. the clerk; left out when not given. */
  verifierName?: string;
}

// Phrases only the PDF shows; everything else comes from the text report's tables.
const PDF_LABELS = {
  vi: {
    title: 'KẾT QUẢ KIỂM TRA CHỮ KÝ SỐ',
    sha256: 'Mã băm SHA-256',
    checkedAt: 'Thời điểm kiểm tra',
    checkedBy: 'Người kiểm tra',
    footer: 'Lập bởi Kyso',
    page: (i: number, n: number) => `Trang ${i}/${n}`,
  },
  en: {
    title: 'SIGNATURE VERIFICATION REPORT',
    sha256: 'SHA-256',
    checkedAt: 'Checked at',
    checkedBy: 'Checked by',
    footer: 'Produced by Kyso',
    page: (i: number, n: number) => `Page ${i} of ${n}`,
  },
} as const;

type Rgb = readonly [number, number, number];

const INK: Rgb = [0, 0, 0];
const GREY: Rgb = [0.33, 0.33, 0.33];
const HEADING_BAND: Rgb = [0.93, 0.93, 0.93];
const VERDICT_COLOURS: Record<Verdict, { ink: Rgb; band: Rgb }> = {
  valid: { ink: [0, 0.45, 0.2], band: [0.9, 0.96, 0.91] },
  invalid: { ink: [0.75, 0.1, 0.1], band: [0.99, 0.91, 0.9] },
  indeterminate: { ink: [0.72, 0.42, 0], band: [1, 0.95, 0.84] },
};

// A4 in points, with 20 mm margins.
const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const MARGIN = 56.69;
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN;
const TOP = PAGE_HEIGHT - MARGIN;
const BOTTOM = MARGIN;
const FOOTER_BASELINE = 30;
const BODY = 10;
const LEADING = 13.5;
const PADDING = 6;
const BAR_WIDTH = 3;
/** A value longer than this is cut: signer-supplied fields (/Reason) must not run to hundreds of pages. */
const MAX_VALUE_CHARS = 1000;

/** A font as the report draws it: its glyphs are collected while laying out, for the subset. */
class Face {
  constructor(
    readonly font: TrueTypeFont,
    readonly resource: string,
    /** Drawn as fill and stroke to stand in for a missing bold face. */
    readonly synthetic = false,
    /** Character to glyph, for every character drawn; a synthetic bold shares the regular face's. */
    readonly glyphs = new Map<string, number>(),
  ) {}

  /** The text as the font can draw it: NFC, control characters as spaces, missing glyphs as '?'. */
  clean(text: string): string {
    let out = '';
    for (const ch of text.normalize('NFC').replace(/[\p{Cc}\p{Zs}\p{Zl}\p{Zp}]/gu, ' ')) {
      out += this.font.glyphOf(ch.codePointAt(0)!) ? ch : '?';
    }
    return out;
  }

  width(text: string, size: number): number {
    let advance = 0;
    for (const ch of text) advance += this.font.advanceOf(this.font.glyphOf(ch.codePointAt(0)!));
    return (advance * size) / this.font.unitsPerEm;
  }

  /** The glyph IDs of clean text as a hex string for Tj, remembering them for the subset. */
  show(text: string): string {
    const layout = layoutText(this.font, text);
    layout.glyphs.forEach((g, i) => {
      this.glyphs.set(layout.chars[i], g);
    });
    return layout.glyphs.map((g) => g.toString(16).padStart(4, '0')).join('');
  }

  /** The baseline's distance below the top of a line of the given height, the glyphs centred in it. */
  baseline(height: number, size: number): number {
    const { ascent, descent, unitsPerEm } = this.font;
    return height / 2 + ((ascent + descent) / 2 / unitsPerEm) * size;
  }
}

/** Text placed on a line: x from the page's left edge. */
interface Run {
  face: Face;
  size: number;
  x: number;
  text: string;
  colour: Rgb;
}

/** A line of the layout, the unit pages break between. */
interface Line {
  height: number;
  runs: Run[];
  /** A background across the content width. */
  band?: Rgb;
  /** A bar at the left edge, in the verdict's colour. */
  bar?: Rgb;
  /** A hairline across the middle of the line. */
  rule?: Rgb;
  /** Space between blocks: dropped at the top of a page. */
  spacer?: boolean;
}

/** Splits text into lines no wider than width, at spaces, and inside a word only when it alone is too wide. */
export function wrapText(measure: (text: string) => number, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line ? `${line} ${word}` : word;
    if (measure(candidate) <= width) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    let rest = word;
    while (measure(rest) > width) {
      let cut = 1;
      const chars = [...rest];
      while (cut < chars.length && measure(chars.slice(0, cut + 1).join('')) <= width) cut++;
      lines.push(chars.slice(0, cut).join(''));
      rest = chars.slice(cut).join('');
    }
    line = rest;
  }
  lines.push(line);
  return lines;
}

function clip(text: string): string {
  const chars = [...text];
  return chars.length > MAX_VALUE_CHARS ? `${chars.slice(0, MAX_VALUE_CHARS).join('')}…` : text;
}

/** Lays the report out as blocks of lines; a block stays on one page when it fits. */
class Layout {
  readonly blocks: Line[][] = [];
  private readonly labelWidth: number;

  constructor(
    readonly regular: Face,
    readonly bold: Face,
    labels: string[],
  ) {
    // The label column fits the longest label, within bounds that leave the values most of the width.
    const widest = Math.max(...labels.map((l) => regular.width(regular.clean(`${l}:`), BODY)));
    this.labelWidth = Math.min(Math.max(widest + PADDING + 14, 110), 190);
  }

  lines(face: Face, size: number, text: string, width: number): string[] {
    const clean = face.clean(clip(text));
    return wrapText((t) => face.width(t, size), clean, width);
  }

  centred(face: Face, size: number, text: string, height: number): Line[] {
    return this.lines(face, size, text, CONTENT_WIDTH).map((t) => ({
      height,
      runs: [{ face, size, x: MARGIN + (CONTENT_WIDTH - face.width(t, size)) / 2, text: t, colour: INK }],
    }));
  }

  /** A label and its value, or its list of items, side by side, the value wrapped in its column. */
  row(row: ReportRow): Line[] {
    const labelX = MARGIN + PADDING;
    const valueX = MARGIN + this.labelWidth;
    const valueWidth = MARGIN + CONTENT_WIDTH - PADDING - valueX;
    const label = this.lines(this.regular, BODY, `${row.label}:`, valueX - labelX - 6);
    const values: Run[] = [];
    if ('items' in row) {
      const bullet = '•';
      const hang = this.regular.width('• ', BODY);
      for (const item of row.items) {
        this.lines(this.regular, BODY, item, valueWidth - hang).forEach((t, i) => {
          values.push({ face: this.regular, size: BODY, x: valueX, text: i ? '' : bullet, colour: INK });
          values.push({ face: this.regular, size: BODY, x: valueX + hang, text: t, colour: INK });
        });
      }
    } else {
      const face = row.verdict ? this.bold : this.regular;
      const colour = row.verdict ? VERDICT_COLOURS[row.verdict].ink : INK;
      for (const t of this.lines(face, BODY, row.value, valueWidth))
        values.push({ face, size: BODY, x: valueX, text: t, colour });
    }
    // Lists carry two runs a line (bullet, text); fields one.
    const perLine = 'items' in row ? 2 : 1;
    const count = Math.max(label.length, values.length / perLine);
    return Array.from({ length: count }, (_, i) => ({
      height: LEADING,
      runs: [
        ...(i < label.length
          ? [{ face: this.regular, size: BODY, x: labelX, text: label[i], colour: GREY }]
          : []),
        ...values.slice(i * perLine, (i + 1) * perLine),
      ].filter((r) => r.text),
    }));
  }

  spacer(height: number): Line {
    return { height, runs: [], spacer: true };
  }
}

/** The report's blocks: title and document rows, the overall verdict, then one block per signature. */
function layOut(report: VerificationReport, options: ReportPdfOptions, regular: Face, bold: Face): Layout {
  const content = reportContent(options.file, report, options.lang);
  const P = PDF_LABELS[options.lang];
  const [fileRow, ...countRows] = content.rows;
  const documentRows: ReportRow[] = [
    fileRow,
    { label: P.sha256, value: options.sha256 },
    ...countRows,
    { label: P.checkedAt, value: vietnamTime(options.checkedAt) },
    ...(options.verifierName ? [{ label: P.checkedBy, value: options.verifierName }] : []),
  ];
  const labels = [...documentRows, ...content.signatures.flatMap((s) => s.rows)].map((r) => r.label);
  const layout = new Layout(regular, bold, labels);

  layout.blocks.push([
    ...layout.centred(bold, 16, P.title, 24),
    { height: 10, runs: [], rule: GREY },
    ...documentRows.flatMap((row) => layout.row(row)),
  ]);

  const { overall } = content;
  const tone = VERDICT_COLOURS[overall.verdict];
  const boxed = (line: Line): Line => ({ ...line, band: tone.band, bar: tone.ink });
  const overallLines: Line[] = layout
    .lines(bold, 14, `${overall.label}: ${overall.value}`, CONTENT_WIDTH - 3 * PADDING)
    .map((t) => ({
      height: 22,
      runs: [{ face: bold, size: 14, x: MARGIN + 2 * PADDING, text: t, colour: tone.ink }],
    }));
  const notes = [...overall.reasons, ...(overall.error ? [overall.error] : [])];
  const noteLines = notes.flatMap((note) =>
    layout.lines(regular, BODY, `• ${note}`, CONTENT_WIDTH - 3 * PADDING).map((t) => ({
      height: LEADING,
      runs: [{ face: regular, size: BODY, x: MARGIN + 2 * PADDING, text: t, colour: INK }],
    })),
  );
  layout.blocks.push([
    layout.spacer(12),
    boxed({ height: PADDING, runs: [] }),
    ...overallLines.map(boxed),
    ...noteLines.map(boxed),
    boxed({ height: PADDING, runs: [] }),
  ]);

  for (const block of content.signatures) {
    const colour = VERDICT_COLOURS[block.verdict].ink;
    const heading = layout.lines(bold, 11, block.heading, CONTENT_WIDTH - 3 * PADDING).map((t) => ({
      height: 18,
      band: HEADING_BAND,
      bar: colour,
      runs: [{ face: bold, size: 11, x: MARGIN + 2 * PADDING, text: t, colour: INK }],
    }));
    layout.blocks.push([
      layout.spacer(14),
      ...heading,
      { height: 4, runs: [] },
      ...block.rows.flatMap((row) => layout.row(row)),
    ]);
  }
  return layout;
}

/** A line placed on a page, its top at y. */
interface Placed {
  line: Line;
  top: number;
}

/** Breaks the blocks into pages, moving a block that does not fit to the next page when it fits there. */
function paginate(blocks: Line[][]): Placed[][] {
  const pages: Placed[][] = [[]];
  let y = TOP;
  const newPage = () => {
    if (!pages[pages.length - 1].length) return;
    pages.push([]);
    y = TOP;
  };
  for (const block of blocks) {
    const height = block.reduce((h, line) => h + line.height, 0);
    if (height > y - BOTTOM && height <= TOP - BOTTOM) newPage();
    for (const line of block) {
      if (line.height > y - BOTTOM) newPage();
      const page = pages[pages.length - 1];
      if (line.spacer && !page.length) continue;
      page.push({ line, top: y });
      y -= line.height;
    }
  }
  return pages;
}

const n = formatNumber;
const rgb = (c: Rgb) => c.map(n).join(' ');

function drawRun(run: Run, baseline: number): string {
  const { face } = run;
  const text = `BT /${face.resource} ${n(run.size)} Tf ${rgb(run.colour)} rg ${n(run.x)} ${n(baseline)} Td <${face.show(run.text)}> Tj ET`;
  // Fill and stroke thickens the strokes; q/Q keeps the render mode from leaking to later text.
  if (face.synthetic) return `q 2 Tr ${n(run.size * 0.03)} w ${rgb(run.colour)} RG ${text} Q\n`;
  return `${text}\n`;
}

/** The content stream of one page: its lines, then the footer. */
function drawPage(page: Placed[], footer: Run[]): string {
  let ops = '';
  for (const { line, top } of page) {
    const bottom = top - line.height;
    if (line.band)
      ops += `${rgb(line.band)} rg ${n(MARGIN)} ${n(bottom)} ${n(CONTENT_WIDTH)} ${n(line.height)} re f\n`;
    if (line.bar)
      ops += `${rgb(line.bar)} rg ${n(MARGIN)} ${n(bottom)} ${n(BAR_WIDTH)} ${n(line.height)} re f\n`;
    if (line.rule) {
      const mid = top - line.height / 2;
      ops += `${rgb(line.rule)} RG 0.5 w ${n(MARGIN)} ${n(mid)} m ${n(MARGIN + CONTENT_WIDTH)} ${n(mid)} l S\n`;
    }
    // One baseline a line, though a bold value's face has other metrics than its label's.
    const [first] = line.runs;
    const baseline = first ? top - first.face.baseline(line.height, first.size) : 0;
    for (const run of line.runs) ops += drawRun(run, baseline);
  }
  const rule = FOOTER_BASELINE + 12;
  ops += `${rgb(GREY)} RG 0.5 w ${n(MARGIN)} ${n(rule)} m ${n(MARGIN + CONTENT_WIDTH)} ${n(rule)} l S\n`;
  for (const run of footer) ops += drawRun(run, FOOTER_BASELINE);
  return ops;
}

/** A whole new PDF file: objects numbered from 1, written with a classic cross-reference table. */
class PdfFile implements ObjectSink {
  private readonly objects: PdfValue[] = [];

  newRef(): PdfRef {
    this.objects.push(null);
    return new PdfRef(this.objects.length, 0);
  }

  set(ref: PdfRef, value: PdfValue): void {
    this.objects[ref.num - 1] = value;
  }

  add(value: PdfValue): PdfRef {
    const ref = this.newRef();
    this.set(ref, value);
    return ref;
  }

  write(root: PdfRef, info: PdfRef): Uint8Array {
    const out = new ByteWriter();
    // The binary comment line tells transfer tools the file is not text.
    out.text('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
    const offsets: number[] = [];
    this.objects.forEach((value, i) => {
      offsets.push(out.length);
      out.text(`${i + 1} 0 obj\n`);
      if (value instanceof PdfStream) {
        writeValue(out, value.dict.copy().set('Length', value.data.length));
        out.text('\nstream\n').bytes(value.data).text('\nendstream');
      } else writeValue(out, value);
      out.text('\nendobj\n');
    });
    const xref = out.length;
    out.text(`xref\n0 ${offsets.length + 1}\n0000000000 65535 f\r\n`);
    for (const offset of offsets) out.text(`${String(offset).padStart(10, '0')} 00000 n\r\n`);
    // The same content gives the same /ID, so a report can be regenerated byte for byte.
    const id = new PdfString(createHash('sha256').update(out.toBytes()).digest().subarray(0, 16), true);
    out.text('trailer\n');
    writeValue(out, dict({ Size: offsets.length + 1, Root: root, Info: info, ID: [id, id] }));
    out.text(`\nstartxref\n${xref}\n%%EOF\n`);
    return out.toBytes();
  }
}

function checkOptions(options: ReportPdfOptions): void {
  const bad = (message: string): never => {
    throw new PdfError('bad-input', `report: ${message}`);
  };
  if (options.lang !== 'vi' && options.lang !== 'en') bad('lang must be vi or en');
  if (typeof options.file !== 'string') bad('file must be a name');
  if (typeof options.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(options.sha256))
    bad('sha256 must be 64 hex digits');
  if (!(options.checkedAt instanceof Date) || !Number.isFinite(options.checkedAt.getTime()))
    bad('checkedAt must be a valid date');
  if (!(options.fonts?.regular instanceof Uint8Array))
    bad('fonts.regular must be the bytes of a TrueType file');
  if (options.fonts.bold !== undefined && !(options.fonts.bold instanceof Uint8Array))
    bad('fonts.bold must be the bytes of a TrueType file');
}

/** The verification report as a self-contained A4 PDF 1.7 with embedded, subset TrueType fonts. */
export function renderReportPdf(report: VerificationReport, options: ReportPdfOptions): Uint8Array {
  checkOptions(options);
  const regular = new Face(parseTrueType(options.fonts.regular), 'F1');
  const bold = options.fonts.bold
    ? new Face(parseTrueType(options.fonts.bold), 'F2')
    : new Face(regular.font, 'F1', true, regular.glyphs);

  const pages = paginate(layOut(report, options, regular, bold).blocks);
  const P = PDF_LABELS[options.lang];
  const footerText = regular.clean(`${P.footer} · ${vietnamTime(options.checkedAt)}`);
  const contents = pages.map((page, i) => {
    const number = P.page(i + 1, pages.length);
    const x = MARGIN + CONTENT_WIDTH - regular.width(number, 8);
    const footer: Run[] = [
      { face: regular, size: 8, x: MARGIN, text: footerText, colour: GREY },
      { face: regular, size: 8, x, text: number, colour: GREY },
    ];
    return drawPage(page, footer);
  });

  const file = new PdfFile();
  const catalog = file.newRef();
  const tree = file.newRef();
  const faces = bold.synthetic ? [regular] : [regular, bold];
  const fonts = dict(
    Object.fromEntries(
      faces.map((face) => {
        const used = [...face.glyphs];
        const ref = embedFont(
          file,
          face.font,
          used.map(([, g]) => g),
          used.map(([ch]) => ch),
        );
        return [face.resource, ref];
      }),
    ),
  );
  const kids = contents.map((ops) => {
    const stream = file.add(
      new PdfStream(
        dict({ Filter: name('FlateDecode') }),
        new Uint8Array(deflateSync(Buffer.from(ops, 'latin1'))),
      ),
    );
    return file.add(
      dict({
        Type: name('Page'),
        Parent: tree,
        MediaBox: [0, 0, PAGE_WIDTH, PAGE_HEIGHT],
        Resources: dict({ Font: fonts }),
        Contents: stream,
      }),
    );
  });
  file.set(tree, dict({ Type: name('Pages'), Kids: kids, Count: kids.length }));
  file.set(
    catalog,
    dict({ Type: name('Catalog'), Pages: tree, Lang: encodeText(options.lang === 'vi' ? 'vi-VN' : 'en') }),
  );
  const info = file.add(
    dict({
      Title: encodeText(`${P.title}: ${options.file}`),
      Producer: encodeText('Kyso'),
      CreationDate: encodeText(formatPdfDate(options.checkedAt, 7 * 60)),
    }),
  );
  return file.write(catalog, info);
}
