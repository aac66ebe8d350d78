import { PdfError } from '../errors.js';
import { decodeStream } from './filters.js';
import { isWhitespace, Lexer, latin1 } from './lexer.js';
import {
  isName,
  numberValue,
  PdfDict,
  type PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from './objects.js';
import { ParseBudget, type ParseLimits, parseIndirectObject, parseValue } from './parser.js';
import { parsePdfDate, textOf } from './text.js';
import { readXrefChain, sectionStart, type XrefEntry, type XrefLimits, type XrefSection } from './xref.js';

// A lazy reader: it reads the cross-reference chain and then only the objects it is asked for, so a
// 50 MB file costs the objects that signing and verification need, not the whole document.

/** Bounds on what a file may make the reader do; every one has a default. */
export interface ReadOptions {
  /** Largest file accepted (default 1 GiB). */
  maxBytes?: number;
  /** Deepest nesting of arrays and dictionaries (default 64). */
  maxDepth?: number;
  /** Most cross-reference entries over all sections (default 8,388,607, the PDF 1.7 object limit). */
  maxXrefEntries?: number;
  /** Most cross-reference sections, i.e. revisions (default 10,000). */
  maxSections?: number;
  /** Most bytes one decoded stream may have, and four times that over the document (default 64 MiB). */
  maxStreamBytes?: number;
  /** Most pages (default 100,000) and most form fields (default 10,000). */
  maxPages?: number;
  maxFields?: number;
  /**
   * Most memory the objects read from the file may take, estimated per value (default 0: eight times
   * the file's size, at least 64 MiB).
   */
  maxObjectBytes?: number;
}

const DEFAULTS: Required<ReadOptions> = {
  maxBytes: 1024 * 1024 * 1024,
  maxDepth: 64,
  maxXrefEntries: 8_388_607,
  maxSections: 10_000,
  maxStreamBytes: 64 * 1024 * 1024,
  maxPages: 100_000,
  maxFields: 10_000,
  maxObjectBytes: 0,
};
const OBJECT_BYTES_PER_FILE_BYTE = 8;
const MIN_OBJECT_BYTES = 64 * 1024 * 1024;

/** A rectangle [llx lly urx ury], normalized so that ll is lower-left. */
export type Box = [number, number, number, number];

/** A page and its inherited attributes. */
export interface PageInfo {
  ref: PdfRef;
  dict: PdfDict;
  mediaBox: Box;
  cropBox: Box;
  rotate: number;
}

/** A form field (a node of /Fields with its descendants' names joined by '.'). */
export interface FieldInfo {
  name: string;
  ref: PdfRef;
  dict: PdfDict;
  /** /FT, inherited from ancestors. */
  type?: string;
  /** The widget annotations: the field itself when it is merged with its widget, else its kids. */
  widgets: PdfRef[];
}

/** A signature field and its value, the signature dictionary, if it is signed. */
export interface SignatureField extends FieldInfo {
  signature?: SignatureDictionary;
}

/** The entries of a signature dictionary (§12.8.1) Kyso reads. */
export interface SignatureDictionary {
  ref?: PdfRef;
  dict: PdfDict;
  /** Where the dictionary's object lies in the file, when it is stored directly (not in an object stream). */
  objectSpan?: { start: number; end: number };
  type?: string;
  filter?: string;
  subFilter?: string;
  /** /ByteRange as found; the verifier decides whether it is well formed. */
  byteRange?: PdfValue;
  contents?: PdfString;
  /** /M as written, and as a date when it parses. */
  signingTimeText?: string;
  signingTime?: Date;
  name?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
}

/** Where a revision ends: its %%EOF, and the end of the line after it. */
export interface Revision {
  xrefOffset: number;
  eofOffset: number;
  end: number;
}

interface ObjectStream {
  data: Uint8Array;
  first: number;
  /** [object number, offset from /First] per index. */
  index: [number, number][];
  /** The objects parsed so far, by index. */
  values: (PdfValue | undefined)[];
}

/** An object parsed at an offset of the file, and the indirect /Length it was read with, if any. */
interface ParsedAt {
  ref: PdfRef;
  value: PdfValue;
  start: number;
  end: number;
  length?: { ref: PdfRef; value: number };
}

/**
 * Where every object number is defined along one cross-reference chain: the indexes (newest first) of
 * the sections that define it. Any suffix of the chain, i.e. any earlier revision, looks an object up
 * here without merging the sections' maps again, so n revisions cost the chain once, not n times.
 */
class XrefIndex {
  private readonly at = new Map<number, number | number[]>();

  constructor(readonly sections: XrefSection[]) {
    sections.forEach((s, i) => {
      for (const num of s.entries.keys()) {
        const known = this.at.get(num);
        if (known === undefined) this.at.set(num, i);
        else if (typeof known === 'number') this.at.set(num, [known, i]);
        else known.push(i);
      }
    });
  }

  /** The entry for num in the chain that starts at section from. */
  entry(num: number, from: number): XrefEntry | undefined {
    const known = this.at.get(num);
    if (known === undefined) return undefined;
    let i: number;
    if (typeof known === 'number') i = known;
    else {
      let lo = 0;
      let hi = known.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (known[mid] < from) lo = mid + 1;
        else hi = mid;
      }
      i = lo < known.length ? known[lo] : -1;
    }
    return i >= from ? this.sections[i].entries.get(num) : undefined;
  }

  /** Every object number the chain names. */
  numbers(): IterableIterator<number> {
    return this.at.keys();
  }
}

/**
 * What the documents of one file's revisions share: the cross-reference chain, and the objects and
 * object streams parsed at each offset (the bytes before a revision's end are the same in every later
 * one), so that a file of n revisions parses each object once. Decoding draws on one budget.
 */
class FileParse {
  readonly objects = new Map<number, ParsedAt>();
  readonly objectStreams = new Map<number, ObjectStream>();
  private byOffset?: Map<number, number>;
  private reaches?: number[];

  constructor(
    readonly xref: XrefIndex,
    public decodedBudget: number,
    readonly objectBudget: ParseBudget,
  ) {}

  /** The index of the section that begins at a file offset. */
  sectionAt(offset: number): number | undefined {
    this.byOffset ??= new Map(this.xref.sections.map((s, i) => [s.start, i]));
    return this.byOffset.get(offset);
  }

  /** The furthest byte the chain from section i was read from. */
  reach(i: number): number {
    if (!this.reaches) {
      const { sections } = this.xref;
      this.reaches = new Array(sections.length);
      let furthest = 0;
      for (let k = sections.length - 1; k >= 0; k--) {
        furthest = Math.max(furthest, sections[k].reach);
        this.reaches[k] = furthest;
      }
    }
    return this.reaches[i];
  }
}

const MAX_REF_HOPS = 32;
/** Earlier revisions' documents a Revisions keeps at once. */
const KEPT_REVISIONS = 4;
const HEADER = /^%PDF-(\d\.\d)/;

/** A parsed PDF: its cross-reference chain, with objects read on demand. */
export class PdfDocument {
  readonly options: Required<ReadOptions>;
  readonly trailer: PdfDict;
  readonly version: string;
  readonly startxref: number;
  /** Where the last revision read ends: after its `%%EOF` and end of line. */
  readonly end: number;
  private readonly file: FileParse;
  /** This document's chain is the file's from this section on (0 but for an earlier revision). */
  private readonly from: number;
  private readonly cache = new Map<number, PdfValue>();
  private readonly locations = new Map<number, { start: number; end: number }>();
  private readonly trailerEntries = new Map<string, PdfValue | undefined>();
  private readonly resolving = new Set<number>();
  private pageCache?: PageInfo[];
  private fieldCache?: FieldInfo[];

  private constructor(
    readonly bytes: Uint8Array,
    options: ReadOptions,
    revisionOf?: { file: FileParse; from: number; version: string },
  ) {
    this.options = { ...DEFAULTS, ...options };
    if (revisionOf) {
      this.file = revisionOf.file;
      this.from = revisionOf.from;
      this.version = revisionOf.version;
      this.startxref = this.file.xref.sections[this.from].offset;
      this.trailer = this.file.xref.sections[this.from].trailer;
      this.end = bytes.length;
      return;
    }
    if (bytes.length > this.options.maxBytes)
      throw new PdfError('too-large', `file of ${bytes.length} bytes exceeds ${this.options.maxBytes}`);
    const header = HEADER.exec(latin1(bytes, 0, Math.min(16, bytes.length)));
    if (!header) throw new PdfError('syntax', 'not a PDF: no %PDF- header at the start');
    this.version = header[1];
    const chain = readLastChain(bytes, {
      maxEntries: this.options.maxXrefEntries,
      maxSections: this.options.maxSections,
      maxDepth: this.options.maxDepth,
      maxStreamBytes: this.options.maxStreamBytes,
    });
    this.startxref = chain.startxref;
    this.end = chain.end;
    const { sections } = chain;
    this.file = new FileParse(
      new XrefIndex(sections),
      this.options.maxStreamBytes * 4,
      new ParseBudget(
        this.options.maxObjectBytes || Math.max(MIN_OBJECT_BYTES, OBJECT_BYTES_PER_FILE_BYTE * bytes.length),
      ),
    );
    this.from = 0;
    this.trailer = sections[0].trailer;
    if (sections.some((s) => s.trailer.has('Encrypt')))
      throw new PdfError('encrypted', 'encrypted PDFs are not supported: remove the encryption first');
  }

  /** Reads a PDF's structure; PdfError when it is not one Kyso can read safely. */
  static open(bytes: Uint8Array, options: ReadOptions = {}): PdfDocument {
    return new PdfDocument(bytes, options);
  }

  /** Sections newest first (a copy for an earlier revision: use sectionsSince to compare revisions). */
  get sections(): XrefSection[] {
    const all = this.file.xref.sections;
    return this.from === 0 ? all : all.slice(this.from);
  }

  /**
   * The sections this document has and an earlier revision of the same file does not, newest first:
   * what the revisions between them wrote.
   */
  sectionsSince(earlier: PdfDocument): XrefSection[] {
    if (earlier.file === this.file && earlier.from >= this.from)
      return this.file.xref.sections.slice(this.from, earlier.from);
    const known = new Set(earlier.sections.map((s) => s.start));
    return this.sections.filter((s) => !known.has(s.start));
  }

  /** Kind of the newest cross-reference section: an incremental update writes the same kind. */
  get xrefKind(): 'table' | 'stream' {
    return this.trailerSection().kind;
  }

  private trailerSection(): XrefSection {
    return this.file.xref.sections[this.from];
  }

  /** Where the newest cross-reference section that has an object number puts it. */
  entry(num: number): XrefEntry | undefined {
    return this.file.xref.entry(num, this.from);
  }

  /** The next free object number: past /Size and every number the cross-references name. */
  get size(): number {
    let size = 0;
    for (const s of this.sections) {
      const v = s.trailer.get('Size');
      if (typeof v === 'number' && v > size) size = v;
    }
    for (const num of this.file.xref.numbers())
      if (num >= size && this.entry(num) !== undefined) size = num + 1;
    return size;
  }

  /** The trailer entry from the newest section that has it (a linearized file's first trailer may lack some). */
  trailerEntry(key: string): PdfValue | undefined {
    if (this.trailerEntries.has(key)) return this.trailerEntries.get(key);
    let found: PdfValue | undefined;
    const all = this.file.xref.sections;
    for (let i = this.from; i < all.length && found === undefined; i++) found = all[i].trailer.get(key);
    this.trailerEntries.set(key, found);
    return found;
  }

  /** The generation number the cross-reference gives an object (0 for objects in object streams). */
  generationOf(num: number): number | undefined {
    const e = this.entry(num);
    if (!e || e.type === 'free') return undefined;
    return e.type === 'offset' ? e.gen : 0;
  }

  /** The object a reference names, latest revision; null when it is free or absent (§7.3.10). */
  object(ref: PdfRef): PdfValue {
    const e = this.entry(ref.num);
    if (!e || e.type === 'free') return null;
    if ((e.type === 'offset' ? e.gen : 0) !== ref.gen) return null;
    const known = this.cache.get(ref.num);
    if (known !== undefined) return known;
    if (this.resolving.has(ref.num))
      throw new PdfError('cycle', `object ${ref.key} refers to itself while being read`);
    this.resolving.add(ref.num);
    try {
      const value = e.type === 'offset' ? this.readAt(ref, e.offset) : this.readCompressed(ref.num, e);
      this.cache.set(ref.num, value);
      return value;
    } finally {
      this.resolving.delete(ref.num);
    }
  }

  /** Follows references until a direct value. */
  resolve(v: PdfValue | undefined): PdfValue | undefined {
    for (let hops = 0; v instanceof PdfRef; hops++) {
      if (hops === MAX_REF_HOPS) throw new PdfError('cycle', 'too many references in a row');
      v = this.object(v);
    }
    return v;
  }

  /** An entry of a dictionary, resolved. */
  get(d: PdfDict, key: string): PdfValue | undefined {
    return this.resolve(d.get(key));
  }

  /** Where an object stored directly in the file starts and ends (it is read first). */
  location(ref: PdfRef): { start: number; end: number } | undefined {
    this.object(ref);
    return this.locations.get(ref.num);
  }

  private limits(inFile: boolean): ParseLimits {
    return { maxDepth: this.options.maxDepth, inFile, budget: this.file.objectBudget };
  }

  private readAt(ref: PdfRef, offset: number): PdfValue {
    let obj = this.file.objects.get(offset);
    // Parsed by another revision: the same unless its stream's indirect /Length now says otherwise.
    const reusable =
      obj &&
      obj.ref.num === ref.num &&
      obj.ref.gen === ref.gen &&
      obj.end <= this.bytes.length &&
      (!obj.length || this.lengthOf(obj.length.ref) === obj.length.value);
    if (!obj || !reusable) {
      let length: ParsedAt['length'];
      const read = parseIndirectObject(
        this.bytes,
        offset,
        this.limits(true),
        (r) => {
          length = { ref: r, value: this.lengthOf(r) };
          return length.value;
        },
        ref,
      );
      obj = { ...read, length };
      this.file.objects.set(offset, obj);
    }
    this.locations.set(ref.num, { start: obj.start, end: obj.end });
    return obj.value;
  }

  private lengthOf(ref: PdfRef): number {
    const v = this.object(ref);
    if (typeof v !== 'number')
      throw new PdfError('bad-stream', `indirect /Length ${ref.key} is not an integer`);
    return v;
  }

  private readCompressed(num: number, e: { stream: number; index: number }): PdfValue {
    const os = this.objectStream(e.stream);
    const entry = os.index[e.index];
    if (!entry || entry[0] !== num)
      throw new PdfError('bad-xref', `object stream ${e.stream} has no object ${num} at index ${e.index}`);
    const known = os.values[e.index];
    if (known !== undefined) return known;
    const lx = new Lexer(os.data, os.first + entry[1]);
    const value = parseValue(lx, this.limits(false));
    if (value instanceof PdfRef)
      throw new PdfError('bad-object', `object ${num} in an object stream is a bare reference`);
    os.values[e.index] = value;
    return value;
  }

  private objectStream(num: number): ObjectStream {
    const e = this.entry(num);
    if (e?.type !== 'offset')
      throw new PdfError('bad-xref', `object stream ${num} is not stored directly in the file`);
    const stream = this.object(new PdfRef(num, e.gen));
    // Keyed by the stream object itself: a revision that reads it differently gets its own.
    const known = this.file.objectStreams.get(e.offset);
    if (known && this.file.objects.get(e.offset)?.value === stream) return known;
    if (!(stream instanceof PdfStream) || !isName(stream.dict.get('Type'), 'ObjStm'))
      throw new PdfError('bad-xref', `object ${num} is not an object stream`);
    const n = stream.dict.get('N');
    const first = stream.dict.get('First');
    if (
      typeof n !== 'number' ||
      typeof first !== 'number' ||
      n < 0 ||
      first < 0 ||
      n > this.options.maxXrefEntries
    )
      throw new PdfError('bad-object', `object stream ${num} has a bad /N or /First`);
    const data = decodeStream(stream, Math.min(this.options.maxStreamBytes, this.file.decodedBudget));
    this.file.decodedBudget -= data.length;
    if (first > data.length)
      throw new PdfError('bad-object', `object stream ${num}: /First is past its data`);
    const lx = new Lexer(data, 0, first);
    const index: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const objNum = lx.next();
      const offset = lx.next();
      if (
        objNum.type !== 'number' ||
        !objNum.integer ||
        offset.type !== 'number' ||
        !offset.integer ||
        offset.value < 0
      )
        throw new PdfError('bad-object', `object stream ${num}: bad header`);
      index.push([objNum.value, offset.value]);
    }
    const os: ObjectStream = { data, first, index, values: [] };
    this.file.objectStreams.set(e.offset, os);
    return os;
  }

  /** The reference to the document catalog. */
  rootRef(): PdfRef {
    const root = this.trailerEntry('Root');
    if (!(root instanceof PdfRef)) throw new PdfError('bad-structure', 'trailer has no /Root reference');
    return root;
  }

  /** The document catalog. */
  catalog(): PdfDict {
    const root = this.object(this.rootRef());
    if (!(root instanceof PdfDict) || !isName(root.get('Type'), 'Catalog'))
      throw new PdfError('bad-structure', '/Root is not a catalog');
    return root;
  }

  /** The first and second /ID elements, when the trailer has them. */
  id(): [Uint8Array, Uint8Array] | undefined {
    const v = this.resolve(this.trailerEntry('ID'));
    if (Array.isArray(v) && v.length === 2 && v[0] instanceof PdfString && v[1] instanceof PdfString)
      return [v[0].bytes, v[1].bytes];
    return undefined;
  }

  /** The pages in order, with inherited boxes and rotation. */
  pages(): PageInfo[] {
    this.pageCache ??= this.walkPages();
    return this.pageCache;
  }

  private walkPages(): PageInfo[] {
    const out: PageInfo[] = [];
    const seen = new Set<number>();
    const treeRef = this.catalog().get('Pages');
    if (!(treeRef instanceof PdfRef)) throw new PdfError('bad-structure', 'catalog has no /Pages reference');
    const visit = (ref: PdfValue, inherited: Inherited, depth: number) => {
      if (!(ref instanceof PdfRef)) throw new PdfError('bad-structure', 'page tree node is not a reference');
      if (seen.has(ref.num)) throw new PdfError('cycle', `page tree visits object ${ref.key} twice`);
      if (depth > this.options.maxDepth) throw new PdfError('limit', 'page tree too deep');
      seen.add(ref.num);
      const node = this.object(ref);
      if (!(node instanceof PdfDict))
        throw new PdfError('bad-structure', `page tree node ${ref.key} is not a dictionary`);
      const here: Inherited = {
        mediaBox: node.get('MediaBox') ?? inherited.mediaBox,
        cropBox: node.get('CropBox') ?? inherited.cropBox,
        rotate: node.get('Rotate') ?? inherited.rotate,
      };
      const kids = this.get(node, 'Kids');
      if (isName(node.get('Type'), 'Pages') || (!isName(node.get('Type'), 'Page') && Array.isArray(kids))) {
        if (!Array.isArray(kids))
          throw new PdfError('bad-structure', `page tree node ${ref.key} has no /Kids`);
        for (const kid of kids) visit(kid, here, depth + 1);
        return;
      }
      if (out.length === this.options.maxPages)
        throw new PdfError('limit', `more than ${this.options.maxPages} pages`);
      const mediaBox = this.box(here.mediaBox, `page ${out.length + 1} /MediaBox`);
      if (!mediaBox) throw new PdfError('bad-structure', `page ${out.length + 1} has no /MediaBox`);
      const cropBox = this.box(here.cropBox, `page ${out.length + 1} /CropBox`) ?? mediaBox;
      const rotate = numberValue(this.resolve(here.rotate)) ?? 0;
      out.push({ ref, dict: node, mediaBox, cropBox, rotate });
    };
    visit(treeRef, {}, 0);
    return out;
  }

  private box(v: PdfValue | undefined, what: string): Box | undefined {
    const a = this.resolve(v);
    if (a === undefined) return undefined;
    const n = Array.isArray(a) ? a.map((x) => numberValue(this.resolve(x))) : [];
    if (n.length !== 4 || n.some((x) => x === undefined))
      throw new PdfError('bad-structure', `${what} is not a rectangle`);
    const [x1, y1, x2, y2] = n as number[];
    return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
  }

  /** The interactive form dictionary and its reference when it is an indirect object. */
  acroForm(): { dict: PdfDict; ref?: PdfRef } | undefined {
    const v = this.catalog().get('AcroForm');
    if (v === undefined) return undefined;
    const dict = this.resolve(v);
    if (dict === null || dict === undefined) return undefined;
    if (!(dict instanceof PdfDict)) throw new PdfError('bad-structure', '/AcroForm is not a dictionary');
    return { dict, ref: v instanceof PdfRef ? v : undefined };
  }

  /** Every terminal form field with its full name. */
  fields(): FieldInfo[] {
    this.fieldCache ??= this.walkFields();
    return this.fieldCache;
  }

  private walkFields(): FieldInfo[] {
    const form = this.acroForm();
    if (!form) return [];
    const top = this.get(form.dict, 'Fields');
    if (top === undefined) return [];
    if (!Array.isArray(top)) throw new PdfError('bad-structure', '/AcroForm /Fields is not an array');
    const out: FieldInfo[] = [];
    const seen = new Set<number>();
    const visit = (ref: PdfValue, parentName: string, parentType: string | undefined, depth: number) => {
      if (!(ref instanceof PdfRef))
        throw new PdfError('bad-structure', 'a form field is not an indirect object');
      if (seen.has(ref.num)) throw new PdfError('cycle', `form field ${ref.key} appears twice`);
      if (depth > this.options.maxDepth) throw new PdfError('limit', 'form field tree too deep');
      if (seen.size === this.options.maxFields)
        throw new PdfError('limit', `more than ${this.options.maxFields} fields`);
      seen.add(ref.num);
      const d = this.object(ref);
      if (!(d instanceof PdfDict))
        throw new PdfError('bad-structure', `form field ${ref.key} is not a dictionary`);
      const partial = textOf(this.get(d, 'T'));
      const name = partial === undefined ? parentName : parentName ? `${parentName}.${partial}` : partial;
      const ft = this.get(d, 'FT');
      const type = isName(ft) ? ft.value : parentType;
      const kids = this.get(d, 'Kids');
      const fieldKids: PdfRef[] = [];
      const widgets: PdfRef[] = [];
      if (Array.isArray(kids)) {
        for (const kid of kids) {
          const k = kid instanceof PdfRef ? this.object(kid) : undefined;
          if (!(kid instanceof PdfRef) || !(k instanceof PdfDict))
            throw new PdfError('bad-structure', `form field ${ref.key} has a kid that is not a dictionary`);
          if (k.has('T') || !isName(k.get('Subtype'), 'Widget')) fieldKids.push(kid);
          else {
            if (seen.has(kid.num)) throw new PdfError('cycle', `widget ${kid.key} appears twice`);
            seen.add(kid.num);
            widgets.push(kid);
          }
        }
      }
      if (fieldKids.length > 0) {
        for (const kid of fieldKids) visit(kid, name, type, depth + 1);
        return;
      }
      if (isName(d.get('Subtype'), 'Widget')) widgets.unshift(ref);
      out.push({ name, ref, dict: d, type, widgets });
    };
    for (const f of top) visit(f, '', undefined, 0);
    return out;
  }

  /** The signature fields, with their signature dictionaries when signed. */
  signatureFields(): SignatureField[] {
    return this.fields()
      .filter((f) => f.type === 'Sig')
      .map((f) => {
        const v = f.dict.get('V');
        const sig = this.resolve(v);
        if (sig === undefined || sig === null) return f;
        if (!(sig instanceof PdfDict))
          throw new PdfError('bad-structure', `signature field ${f.name} has a /V that is not a dictionary`);
        return { ...f, signature: this.signatureDictionary(sig, v instanceof PdfRef ? v : undefined) };
      });
  }

  private signatureDictionary(dict: PdfDict, ref: PdfRef | undefined): SignatureDictionary {
    const nameOf = (k: string) => {
      const v = this.get(dict, k);
      return isName(v) ? (v as PdfName).value : undefined;
    };
    const text = (k: string) => textOf(this.get(dict, k));
    const contents = dict.get('Contents');
    const m = text('M');
    return {
      ref,
      dict,
      objectSpan: ref && this.location(ref),
      type: nameOf('Type'),
      filter: nameOf('Filter'),
      subFilter: nameOf('SubFilter'),
      // Left unresolved: a verifier wants the direct value, where the signature put it.
      byteRange: dict.get('ByteRange'),
      contents: contents instanceof PdfString ? contents : undefined,
      signingTimeText: m,
      signingTime: m === undefined ? undefined : parsePdfDate(m),
      name: text('Name'),
      reason: text('Reason'),
      location: text('Location'),
      contactInfo: text('ContactInfo'),
    };
  }

  /**
   * The document as it was up to byte end (after an earlier revision's %%EOF), read from this one's
   * chain when that revision's chain is a suffix of it lying wholly before end, else read afresh.
   */
  revisionEndingAt(end: number): PdfDocument {
    const bytes = this.bytes.subarray(0, end);
    const last = startxrefs(bytes).next();
    const from = last.done ? undefined : this.file.sectionAt(sectionStart(bytes, last.value.startxref));
    if (this.from !== 0 || from === undefined || this.file.reach(from) > end)
      return new PdfDocument(bytes, this.options);
    return new PdfDocument(bytes, this.options, { file: this.file, from, version: this.version });
  }

  /**
   * The revisions, in file order: each section of the chain followed by `startxref N %%EOF` where N is a
   * section of the chain. Found from the sections rather than by searching for %%EOF, so text inside a
   * stream cannot pose as a boundary; a linearized file's first-page trailer (startxref 0) is not one.
   */
  revisions(): Revision[] {
    const chain = new Set(this.sections.map((s) => s.start));
    const out: Revision[] = [];
    for (const s of this.sections) {
      const lx = new Lexer(this.bytes, s.end);
      const keyword = lx.next();
      const n = lx.next();
      if (
        keyword.type !== 'keyword' ||
        keyword.value !== 'startxref' ||
        n.type !== 'number' ||
        !chain.has(sectionStart(this.bytes, n.value))
      )
        continue;
      // Only white space: %%EOF itself would read as a comment.
      let eofOffset = lx.pos;
      while (eofOffset < this.bytes.length && isWhitespace(this.bytes[eofOffset])) eofOffset++;
      if (latin1(this.bytes, eofOffset, Math.min(eofOffset + 5, this.bytes.length)) !== '%%EOF') continue;
      let end = eofOffset + 5;
      if (this.bytes[end] === 0x0d) end++;
      if (this.bytes[end] === 0x0a) end++;
      out.push({ xrefOffset: s.offset, eofOffset, end });
    }
    return out.sort((a, b) => a.eofOffset - b.eofOffset);
  }
}

interface Inherited {
  mediaBox?: PdfValue;
  cropBox?: PdfValue;
  rotate?: PdfValue;
}

/** Earlier `startxref` offsets tried when the last one cannot be read. */
const MAX_FALLBACKS = 4;
/** Errors of a damaged or cut last update, after which an earlier revision may still be read. */
const DAMAGED = new Set(['bad-xref', 'syntax', 'bad-object', 'bad-stream', 'cycle']);

/**
 * The cross-reference chain from the last `startxref N %%EOF` that can be read. A file cut short, or
 * whose last update has a damaged trailer or startxref, keeps its earlier revisions: the bytes after
 * them are then not a revision, which the verifier never lets pass (changes/signed.ts).
 */
function readLastChain(
  bytes: Uint8Array,
  limits: XrefLimits,
): { startxref: number; sections: XrefSection[]; end: number } {
  let first: unknown;
  let tries = 0;
  for (const { startxref, end } of startxrefs(bytes)) {
    try {
      return { startxref, sections: readXrefChain(bytes, startxref, limits), end };
    } catch (e) {
      first ??= e;
      if (!(e instanceof PdfError) || !DAMAGED.has(e.code) || ++tries > MAX_FALLBACKS) throw first;
    }
  }
  throw (
    first ??
    new PdfError(
      'bad-xref',
      'no startxref followed by an offset and %%EOF: the file is truncated or not a PDF',
    )
  );
}

/** Each `startxref N %%EOF` in the file, last first: N, and where its line ends. */
function* startxrefs(bytes: Uint8Array): Generator<{ startxref: number; end: number }> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (
    let at = buf.lastIndexOf('startxref');
    at >= 0;
    at = at > 0 ? buf.lastIndexOf('startxref', at - 1) : -1
  ) {
    const m = /^startxref\s+(\d{1,15})\s+%%EOF/.exec(buf.subarray(at, at + 64).toString('latin1'));
    if (!m) continue;
    let end = at + m[0].length;
    if (bytes[end] === 0x0d) end++;
    if (bytes[end] === 0x0a) end++;
    yield { startxref: Number(m[1]), end };
  }
}

/**
 * A file's revisions, each read as the document it was on first use and then kept, so that the checks
 * of one verification (difference analysis, validation data) share them rather than parse them again.
 * An earlier revision is a view of the latest document's chain from its own section on, sharing the
 * objects parsed so far: n revisions cost what the file does once, not n times.
 */
export class Revisions {
  readonly list: Revision[];
  private readonly docs = new Map<number, PdfDocument>();

  constructor(readonly latest: PdfDocument) {
    this.list = latest.revisions();
  }

  /** Revision i (0-based) as a document of its own. */
  document(i: number): PdfDocument {
    const { end } = this.list[i];
    if (end === this.latest.bytes.length) return this.latest;
    let doc = this.docs.get(i);
    if (!doc) {
      doc = this.latest.revisionEndingAt(end);
      this.docs.set(i, doc);
      // The checks walk the revisions in order, a pair at a time: keeping every view's own caches
      // (pages, fields) would cost revisions × document size; the parsed objects stay shared.
      if (this.docs.size > KEPT_REVISIONS) this.docs.delete(this.docs.keys().next().value!);
    }
    return doc;
  }
}
