import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { PdfError } from '../errors.js';
import { isWhitespace } from './lexer.js';
import {
  ByteWriter,
  dict,
  name,
  type PdfDict,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
  writeValue,
} from './objects.js';
import type { PdfDocument } from './reader.js';

// An incremental update (ISO 32000-1 §7.5.6): the original bytes, untouched, then the new and changed
// objects, a cross-reference section of the same kind as the file's newest one, and a trailer with /Prev.

/** An object body already serialized, for callers that need to know where its bytes land. */
export class RawObject {
  constructor(readonly body: Uint8Array) {}
}

/**
 * The update written out: the original bytes, untouched, and what follows them. Kept apart so that a
 * large file is never copied: callers write or hash the two parts; `bytes` joins them when asked.
 */
export class WrittenUpdate {
  private whole?: Uint8Array;

  constructor(
    readonly original: Uint8Array,
    /** The new revision, appended after the original. */
    readonly appended: Uint8Array,
    /** Offset in the whole new file of the first byte after `num gen obj\n`, by object number. */
    readonly bodyOffsets: Map<number, number>,
  ) {}

  /** The whole new file in one buffer (a copy of the original: large files should use the parts). */
  get bytes(): Uint8Array {
    if (!this.whole) {
      this.whole = new Uint8Array(this.original.length + this.appended.length);
      this.whole.set(this.original);
      this.whole.set(this.appended, this.original.length);
    }
    return this.whole;
  }
}

/** Collects new and changed objects and appends them to a document as one revision. */
export class IncrementalUpdate {
  private readonly objects = new Map<number, { ref: PdfRef; value: PdfValue | RawObject }>();
  private next: number;

  constructor(readonly doc: PdfDocument) {
    this.next = doc.size;
  }

  /** A reference for a new object. */
  newRef(): PdfRef {
    return new PdfRef(this.next++, 0);
  }

  /** Sets a new object or a new version of an existing one. */
  set(ref: PdfRef, value: PdfValue | RawObject): void {
    const isNew = ref.num >= this.doc.size && ref.num < this.next && ref.gen === 0;
    if (!isNew && this.doc.generationOf(ref.num) !== ref.gen)
      throw new PdfError('bad-input', `object ${ref.key} is neither new nor in the document`);
    this.objects.set(ref.num, { ref, value });
  }

  /** Appends the revision; the original bytes come first, unchanged. */
  write(): WrittenUpdate {
    const original = this.doc.bytes;
    // What follows the last revision would end up inside the new one, for a repairing reader to read.
    for (let i = this.doc.end; i < original.length; i++)
      if (!isWhitespace(original[i]))
        throw new PdfError(
          'bad-structure',
          `the file has ${original.length - this.doc.end} bytes after its last revision that are not a revision: it is damaged or cut short`,
        );
    const out = new ByteWriter();
    const last = original[original.length - 1];
    if (last !== 0x0a && last !== 0x0d) out.text('\n');
    const bodyOffsets = new Map<number, number>();
    const offsets = new Map<number, { offset: number; gen: number }>();
    const nums = [...this.objects.keys()].sort((a, b) => a - b);
    for (const num of nums) {
      const { ref, value } = this.objects.get(num)!;
      offsets.set(num, { offset: original.length + out.length, gen: ref.gen });
      out.text(`${ref.num} ${ref.gen} obj\n`);
      bodyOffsets.set(num, original.length + out.length);
      writeObjectBody(out, value);
      out.text('\nendobj\n');
    }
    const trailer = this.trailer(out);
    const xrefOffset = original.length + out.length;
    if (this.doc.xrefKind === 'stream') this.writeXrefStream(out, trailer, offsets, xrefOffset);
    else writeXrefTable(out, trailer, offsets);
    out.text(`startxref\n${xrefOffset}\n%%EOF\n`);
    return new WrittenUpdate(original, out.toBytes(), bodyOffsets);
  }

  /**
   * The new trailer: the previous one's entries (§7.5.6) but those that describe its own section, with
   * /ID's first element kept and its second new, and /Prev to the previous section.
   */
  private trailer(body: ByteWriter): PdfDict {
    const id = this.doc.id();
    // The new second element hashes what this revision adds, so it changes whenever the revision does.
    const fresh = createHash('sha256')
      .update(String(this.doc.startxref))
      .update(body.toBytes())
      .digest()
      .subarray(0, 16);
    const trailer = dict({
      Size: this.next,
      Root: this.doc.rootRef(),
      Info: this.doc.trailerEntry('Info'),
      ID: [new PdfString(id ? id[0] : fresh, true), new PdfString(fresh, true)],
      Prev: this.doc.startxref,
    });
    for (const [k, v] of this.doc.trailer.entries)
      if (!trailer.has(k) && !SECTION_KEYS.has(k)) trailer.set(k, v);
    return trailer;
  }

  private writeXrefStream(
    out: ByteWriter,
    trailer: PdfDict,
    offsets: Map<number, { offset: number; gen: number }>,
    xrefOffset: number,
  ): void {
    const ref = this.newRef();
    trailer.set('Size', this.next);
    const all = new Map(offsets).set(ref.num, { offset: xrefOffset, gen: 0 });
    const width = Math.max(4, Math.ceil(Math.log2(xrefOffset + 1) / 8));
    const nums = [...all.keys()].sort((a, b) => a - b);
    const rows = new Uint8Array(nums.length * (1 + width + 2));
    let pos = 0;
    for (const num of nums) {
      const { offset, gen } = all.get(num)!;
      rows[pos++] = 1;
      for (let i = width - 1; i >= 0; i--) rows[pos++] = Math.floor(offset / 2 ** (8 * i)) & 0xff;
      rows[pos++] = gen >> 8;
      rows[pos++] = gen & 0xff;
    }
    const data = deflateSync(rows);
    const d = dict({
      Type: name('XRef'),
      W: [1, width, 2],
      Index: subsections(nums).flat(),
      Filter: name('FlateDecode'),
    });
    for (const [k, v] of trailer.entries) d.set(k, v);
    out.text(`${ref.num} 0 obj\n`);
    writeObjectBody(out, new PdfStream(d, data));
    out.text('\nendobj\n');
  }
}

/** Trailer and xref-stream entries that belong to one section and are not carried into the next. */
const SECTION_KEYS = new Set([
  'XRefStm',
  'Type',
  'W',
  'Index',
  'Filter',
  'DecodeParms',
  'Length',
  'DL',
  'F',
  'FFilter',
  'FDecodeParms',
]);

/** Runs of consecutive object numbers as [first, count] pairs. */
function subsections(nums: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const num of nums) {
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === num) last[1]++;
    else out.push([num, 1]);
  }
  return out;
}

function writeXrefTable(
  out: ByteWriter,
  trailer: PdfDict,
  offsets: Map<number, { offset: number; gen: number }>,
): void {
  out.text('xref\n');
  const nums = [...offsets.keys()].sort((a, b) => a - b);
  let i = 0;
  for (const [first, count] of subsections(nums)) {
    out.text(`${first} ${count}\n`);
    for (let n = 0; n < count; n++, i++) {
      const { offset, gen } = offsets.get(nums[i])!;
      // Each entry is exactly 20 bytes (§7.5.4).
      out.text(`${String(offset).padStart(10, '0')} ${String(gen).padStart(5, '0')} n\r\n`);
    }
  }
  out.text('trailer\n');
  writeValue(out, trailer);
  out.text('\n');
}

/** Writes an object's body: a stream with its /Length, a raw body, or a direct value. */
function writeObjectBody(out: ByteWriter, value: PdfValue | RawObject): void {
  if (value instanceof RawObject) out.bytes(value.body);
  else if (value instanceof PdfStream) {
    const d = value.dict.copy().set('Length', value.data.length);
    writeValue(out, d);
    out.text('\nstream\n').bytes(value.data).text('\nendstream');
  } else writeValue(out, value);
}
