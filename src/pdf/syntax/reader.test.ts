import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { minimalPdf } from '../../../test/pdf/fixtures.js';
import { PdfError } from '../errors.js';
import { IncrementalUpdate } from './incremental.js';
import { PdfDict, PdfName, PdfRef, PdfStream } from './objects.js';
import { PdfDocument, type ReadOptions } from './reader.js';

const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** A file with a classic table over the objects given, numbered from 1. */
function classic(objects: string[], trailer: string, options: { selfPrev?: boolean } = {}): Uint8Array {
  let out = '%PDF-1.7\n';
  const offsets = objects.map((body, i) => {
    const at = out.length;
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  const prev = options.selfPrev ? ` /Prev ${xref}` : '';
  out += `trailer\n<< /Size ${objects.length + 1} ${trailer}${prev} >>\nstartxref\n${xref}\n%%EOF\n`;
  return latin1(out);
}

const PAGES = [
  '<< /Type /Catalog /Pages 2 0 R >>',
  '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 /MediaBox [0 0 595 842] /Rotate 90 >>',
  '<< /Type /Page /Parent 2 0 R /CropBox [10 10 500 800] >>',
  '<< /Type /Pages /Parent 2 0 R /Kids [5 0 R 6 0 R] /Count 2 /MediaBox [612 792 0 0] >>',
  '<< /Type /Page /Parent 4 0 R /Rotate 0 >>',
  '<< /Type /Page /Parent 4 0 R /MediaBox [0 0 100.5 200] >>',
];

/** Rows of an xref stream, PNG-Up predicted as writers usually do (W [1 4 1], Columns 6). */
function pngUp(rows: number[][]): Uint8Array {
  const out: number[] = [];
  let prev = [0, 0, 0, 0, 0, 0];
  for (const [type, field2, field3] of rows) {
    const row = [
      type,
      (field2 >>> 24) & 0xff,
      (field2 >>> 16) & 0xff,
      (field2 >>> 8) & 0xff,
      field2 & 0xff,
      field3,
    ];
    out.push(2, ...row.map((b, i) => (b - prev[i]) & 0xff));
    prev = row;
  }
  return Uint8Array.from(out);
}

/**
 * A file whose objects 3.. live in an object stream (object 2), with an xref stream as object 1, or, for
 * a hybrid file, a classic table for the direct objects and the stream behind /XRefStm.
 */
function compressed(kind: 'stream' | 'hybrid', extraTrailer = ''): Uint8Array {
  const inner = [
    '<< /Type /Catalog /Pages 4 0 R >>',
    '<< /Type /Pages /Kids [5 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 4 0 R /MediaBox [0 0 300 300] >>',
  ];
  let header = '';
  let body = '';
  inner.forEach((o, i) => {
    header += `${i + 3} ${body.length} `;
    body += `${o}\n`;
  });
  const objstmData = deflateSync(Buffer.from(header + body, 'latin1'));
  let out = '%PDF-1.5\n';
  const objstmAt = out.length;
  out = Buffer.concat([
    Buffer.from(out, 'latin1'),
    Buffer.from(
      `2 0 obj\n<< /Type /ObjStm /N 3 /First ${header.length} /Filter /FlateDecode /Length ${objstmData.length} >>\nstream\n`,
      'latin1',
    ),
    objstmData,
    Buffer.from('\nendstream\nendobj\n', 'latin1'),
  ]).toString('latin1');
  const xrefStmAt = out.length;
  const rows = [
    [0, 0, 255],
    [1, xrefStmAt, 0],
    [1, objstmAt, 0],
    [2, 2, 0],
    [2, 2, 1],
    [2, 2, 2],
  ];
  const data = deflateSync(pngUp(rows));
  const trailer = kind === 'stream' ? `/Root 3 0 R ${extraTrailer}` : '';
  out += `1 0 obj\n<< /Type /XRef /Size 6 /W [1 4 1] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 6 >> ${trailer} /Length ${data.length} >>\nstream\n`;
  out += Buffer.from(data).toString('latin1');
  out += '\nendstream\nendobj\n';
  if (kind === 'stream') return latin1(`${out}startxref\n${xrefStmAt}\n%%EOF\n`);
  // Hybrid: the table lists only the direct objects; readers that know xref streams also read /XRefStm.
  const table = out.length;
  out += `xref\n0 3\n0000000000 65535 f\r\n${String(xrefStmAt).padStart(10, '0')} 00000 n\r\n${String(objstmAt).padStart(10, '0')} 00000 n\r\n`;
  out += `trailer\n<< /Size 6 /Root 3 0 R /XRefStm ${xrefStmAt} ${extraTrailer} >>\nstartxref\n${table}\n%%EOF\n`;
  return latin1(out);
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof PdfError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('PdfDocument', () => {
  it('walks the page tree with inherited MediaBox, CropBox and Rotate', () => {
    const doc = PdfDocument.open(classic(PAGES, '/Root 1 0 R'));
    expect(doc.xrefKind).toBe('table');
    expect(doc.version).toBe('1.7');
    const pages = doc.pages();
    expect(pages.map((p) => p.ref.num)).toEqual([3, 5, 6]);
    expect(pages[0]).toMatchObject({ mediaBox: [0, 0, 595, 842], cropBox: [10, 10, 500, 800], rotate: 90 });
    expect(pages[1]).toMatchObject({ mediaBox: [0, 0, 612, 792], cropBox: [0, 0, 612, 792], rotate: 0 });
    expect(pages[2]).toMatchObject({ mediaBox: [0, 0, 100.5, 200], rotate: 90 });
  });

  it('reads a cross-reference stream with a PNG predictor and an object stream', () => {
    const doc = PdfDocument.open(compressed('stream'));
    expect(doc.xrefKind).toBe('stream');
    expect(doc.catalog().get('Pages')).toEqual(new PdfRef(4, 0));
    expect(doc.pages()[0].mediaBox).toEqual([0, 0, 300, 300]);
    expect(doc.generationOf(5)).toBe(0);
    expect(doc.location(new PdfRef(5, 0))).toBeUndefined();
  });

  it('reads a hybrid file through /XRefStm', () => {
    const doc = PdfDocument.open(compressed('hybrid'));
    expect(doc.xrefKind).toBe('table');
    expect(doc.pages()).toHaveLength(1);
  });

  it('takes the latest revision of an object, and a freed object is gone', () => {
    const base = classic(PAGES, '/Root 1 0 R /Info 7 0 R');
    const doc = PdfDocument.open(base);
    const update = new IncrementalUpdate(doc);
    update.set(new PdfRef(3, 0), doc.pages()[0].dict.copy().set('MediaBox', [0, 0, 10, 10]));
    const next = PdfDocument.open(update.write().bytes);
    expect(next.pages()[0].mediaBox).toEqual([0, 0, 10, 10]);
    expect(next.revisions()).toHaveLength(2);
    expect(next.revisions()[0].end).toBe(base.length);
    const freed = latin1(
      `${Buffer.from(base).toString('latin1')}xref\n3 1\n0000000000 00001 f\r\ntrailer\n<< /Size 8 /Root 1 0 R /Prev ${doc.startxref} >>\nstartxref\n${base.length}\n%%EOF\n`,
    );
    expect(PdfDocument.open(freed).object(new PdfRef(3, 0))).toBeNull();
  });

  it('reads a field tree: full names, inherited /FT, widgets, and the signature dictionary', () => {
    const objects = [
      '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R 5 0 R] >> >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 10 10] >>',
      '<< /Type /Page /Parent 2 0 R >>',
      '<< /T (parent) /FT /Sig /Kids [6 0 R] >>',
      '<< /T (plain) /FT /Tx /Kids [7 0 R] >>',
      '<< /T (child) /Parent 4 0 R /Subtype /Widget /V 8 0 R /Rect [0 0 0 0] >>',
      '<< /Subtype /Widget /Parent 5 0 R /Rect [0 0 1 1] >>',
      "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <3000> /M (D:20260102100405+07'00') /Reason <FEFF0050006800EA> >>",
    ];
    const doc = PdfDocument.open(classic(objects, '/Root 1 0 R'));
    expect(doc.fields().map((f) => [f.name, f.type, f.widgets.map((w) => w.num)])).toEqual([
      ['parent.child', 'Sig', [6]],
      ['plain', 'Tx', [7]],
    ]);
    const [sig] = doc.signatureFields();
    expect(sig.signature).toMatchObject({
      subFilter: 'ETSI.CAdES.detached',
      filter: 'Adobe.PPKLite',
      byteRange: [0, 1, 2, 3],
      reason: 'Phê',
      signingTime: new Date('2026-01-02T03:04:05Z'),
    });
    expect(sig.signature?.objectSpan?.start).toBeGreaterThan(0);
  });

  it('finds revision boundaries from the sections, not from %%EOF text inside a stream', () => {
    const base = classic(PAGES, '/Root 1 0 R');
    const doc = PdfDocument.open(base);
    const update = new IncrementalUpdate(doc);
    // A stream posing as a revision end whose startxref is even a real section.
    update.set(update.newRef(), new PdfStream(new PdfDict(), latin1(`startxref\n${doc.startxref}\n%%EOF\n`)));
    const bytes = update.write().bytes;
    const revisions = PdfDocument.open(bytes).revisions();
    expect(revisions.map((r) => r.end)).toEqual([base.length, bytes.length]);
    expect(revisions[0]).toMatchObject({ xrefOffset: doc.startxref, eofOffset: base.length - 6 });
  });
});

describe('PdfDocument refuses, with a PdfError code', () => {
  const pagesPdf = classic(PAGES, '/Root 1 0 R');

  it.each<[string, () => unknown, string]>([
    ['not a PDF', () => PdfDocument.open(latin1('hello world')), 'syntax'],
    [
      'a file without startxref',
      () => PdfDocument.open(pagesPdf.subarray(0, pagesPdf.length - 40)),
      'bad-xref',
    ],
    [
      'an encrypted file',
      () => PdfDocument.open(classic(PAGES, '/Root 1 0 R /Encrypt << /Filter /Standard >>')),
      'encrypted',
    ],
    ['a /Prev cycle', () => PdfDocument.open(classic(PAGES, '/Root 1 0 R', { selfPrev: true })), 'cycle'],
    ['a file over maxBytes', () => PdfDocument.open(pagesPdf, { maxBytes: 100 }), 'too-large'],
    ['more xref entries than allowed', () => PdfDocument.open(pagesPdf, { maxXrefEntries: 3 }), 'limit'],
    ['more pages than allowed', () => PdfDocument.open(pagesPdf, { maxPages: 2 }).pages(), 'limit'],
    [
      'a page tree that loops',
      () =>
        PdfDocument.open(
          classic(
            ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [2 0 R] /Count 1 >>'],
            '/Root 1 0 R',
          ),
        ).pages(),
      'cycle',
    ],
    [
      'a stream whose /Length is itself',
      () =>
        PdfDocument.open(
          classic(
            ['<< /Type /Catalog /Pages 1 0 R >>', '<< /Length 2 0 R >>\nstream\nx\nendstream'],
            '/Root 1 0 R',
          ),
        ).object(new PdfRef(2, 0)),
      'cycle',
    ],
    [
      'a /Root that is not a catalog',
      () => PdfDocument.open(classic(['<< /Type /Pages >>'], '/Root 1 0 R')).catalog(),
      'bad-structure',
    ],
    [
      'an xref offset that holds another object',
      () => {
        const bad = latin1(Buffer.from(pagesPdf).toString('latin1').replace('1 0 obj', '9 0 obj'));
        return PdfDocument.open(bad).catalog();
      },
      'bad-xref',
    ],
    [
      'deep nesting',
      () =>
        PdfDocument.open(classic([`${'['.repeat(80)}${']'.repeat(80)}`], '/Root 1 0 R')).object(
          new PdfRef(1, 0),
        ),
      'limit',
    ],
  ])('%s', (_, f, expected) => {
    expect(code(f)).toBe(expected);
  });

  it('a hybrid file with an encrypted trailer', () => {
    expect(code(() => PdfDocument.open(compressed('hybrid', '/Encrypt 99 0 R')))).toBe('encrypted');
  });

  it('garbage, truncations and mutations: a PdfError or a result, never another error or a hang', () => {
    const base = minimalPdf({ pages: 2, textField: true });
    const options: ReadOptions = { maxStreamBytes: 1 << 20 };
    const exercise = (bytes: Uint8Array) => {
      try {
        const doc = PdfDocument.open(bytes, options);
        doc.pages();
        doc.signatureFields();
        doc.revisions();
        for (let n = 0; n < doc.size; n++) {
          const g = doc.generationOf(n);
          if (g !== undefined) doc.object(new PdfRef(n, g));
        }
      } catch (e) {
        if (!(e instanceof PdfError)) throw e;
      }
    };
    const started = Date.now();
    for (let cut = 0; cut < base.length; cut += 7) exercise(base.subarray(0, cut));
    for (let i = 0; i < 1500; i++) {
      const m = Uint8Array.from(base);
      const flips = 1 + (i % 4);
      for (let k = 0; k < flips; k++) m[randomBytes(4).readUInt32BE() % m.length] = randomBytes(1)[0];
      exercise(m);
    }
    for (let i = 0; i < 50; i++) exercise(new Uint8Array(randomBytes(2000)));
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('IncrementalUpdate', () => {
  it('appends without changing a byte and writes the same xref kind', () => {
    for (const kind of ['table', 'stream'] as const) {
      const base =
        kind === 'table'
          ? classic(PAGES, '/Root 1 0 R /ID [<01> <02>] /Custom /Kept')
          : compressed('stream', '/ID [<01> <02>] /Custom /Kept');
      const doc = PdfDocument.open(base);
      const update = new IncrementalUpdate(doc);
      const ref = update.newRef();
      update.set(ref, new PdfStream(new PdfDict(), latin1('BT ET')));
      const { bytes } = update.write();
      expect(Buffer.compare(bytes.subarray(0, base.length), base)).toBe(0);
      const next = PdfDocument.open(bytes);
      expect(next.xrefKind).toBe(kind);
      expect(next.sections).toHaveLength(2);
      expect((next.object(ref) as PdfStream).data).toEqual(latin1('BT ET'));
      expect(next.trailer.get('Custom')).toEqual(new PdfName('Kept'));
      expect(next.trailer.has('XRefStm')).toBe(false);
      const [first, second] = next.id()!;
      expect(Buffer.from(first).toString('hex')).toBe('01');
      expect(Buffer.from(second).toString('hex')).not.toBe('02');
    }
  });

  it('refuses to set an object that is neither new nor in the document', () => {
    const update = new IncrementalUpdate(PdfDocument.open(classic(PAGES, '/Root 1 0 R')));
    expect(() => update.set(new PdfRef(99, 0), null)).toThrow('neither new nor in the document');
    expect(() => update.set(new PdfRef(3, 1), null)).toThrow('neither new nor in the document');
  });
});
