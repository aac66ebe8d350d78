import { PdfError } from './errors.js';
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
import { type ParseLimits, parseIndirectObject, parseValue } from './parser.js';
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
}

const DEFAULTS: Required<ReadOptions> = {
  maxBytes: 1024 * 1024 * 1024,
  maxDepth: 64,
  maxXrefEntries: 8_388_607,
  maxSections: 10_000,
  maxStreamBytes: 64 * 1024 * 1024,
  maxPages: 100_000,
  maxFields: 10_000,
};

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
}

const MAX_REF_HOPS = 32;
const HEADER = /^%PDF-(\d\.\d)/;

/** A parsed PDF: its cross-reference chain, with objects read on demand. */
export class PdfDocument {
  readonly options: Required<ReadOptions>;
  /** Sections newest first. */
  readonly sections: XrefSection[];
  readonly trailer: PdfDict;
  readonly version: string;
  readonly startxref: number;
  /** Where the last revision read ends: after its `%%EOF` and end of line. */
  readonly end: number;
  private readonly entries = new Map<number, XrefEntry>();
  private readonly cache = new Map<number, PdfValue>();
  private readonly locations = new Map<number, { start: number; end: number }>();
  private readonly objectStreams = new Map<number, ObjectStream>();
  private readonly resolving = new Set<number>();
  private decodedBudget: number;
  private pageCache?: PageInfo[];
  private fieldCache?: FieldInfo[];

  private constructor(
    readonly bytes: Uint8Array,
    options: ReadOptions,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.decodedBudget = this.options.maxStreamBytes * 4;
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
    this.sections = chain.sections;
    this.end = chain.end;
    for (const s of this.sections)
      for (const [num, e] of s.entries) if (!this.entries.has(num)) this.entries.set(num, e);
    this.trailer = this.sections[0].trailer;
    if (this.sections.some((s) => s.trailer.has('Encrypt')))
      throw new PdfError('encrypted', 'encrypted PDFs are not supported: remove the encryption first');
  }

  /** Reads a PDF's structure; PdfError when it is not one Kyso can read safely. */
  static open(bytes: Uint8Array, options: ReadOptions = {}): PdfDocument {
    return new PdfDocument(bytes, options);
  }

  /** Kind of the newest cross-reference section: an incremental update writes the same kind. */
  get xrefKind(): 'table' | 'stream' {
    return this.sections[0].kind;
  }

  /** The next free object number: past /Size and every number the cross-references name. */
  get size(): number {
    let size = 0;
    for (const s of this.sections) {
      const v = s.trailer.get('Size');
      if (typeof v === 'number' && v > size) size = v;
    }
    for (const num of this.entries.keys()) if (num >= size) size = num + 1;
    return size;
  }

  /** The trailer entry from the newest section that has it (a linearized file's first trailer may lack some). */
  trailerEntry(key: string): PdfValue | undefined {
    for (const s of this.sections) {
      const v = s.trailer.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Where the newest cross-reference section that has an object number puts it. */
  entry(num: number): XrefEntry | undefined {
    return this.entries.get(num);
  }

  /** The generation number the cross-reference gives an object (0 for objects in object streams). */
  generationOf(num: number): number | undefined {
    const e = this.entries.get(num);
    if (!e || e.type === 'free') return undefined;
    return e.type === 'offset' ? e.gen : 0;
  }

  /** The object a reference names, latest revision; null when it is free or absent (§7.3.10). */
  object(ref: PdfRef): PdfValue {
    const e = this.entries.get(ref.num);
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
    return { maxDepth: this.options.maxDepth, inFile };
  }

  private readAt(ref: PdfRef, offset: number): PdfValue {
    const obj = parseIndirectObject(this.bytes, offset, this.limits(true), (r) => this.lengthOf(r), ref);
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
    const lx = new Lexer(os.data, os.first + entry[1]);
    const value = parseValue(lx, this.limits(false));
    if (value instanceof PdfRef)
      throw new PdfError('bad-object', `object ${num} in an object stream is a bare reference`);
    return value;
  }

  private objectStream(num: number): ObjectStream {
    const known = this.objectStreams.get(num);
    if (known) return known;
    const e = this.entries.get(num);
    if (e?.type !== 'offset')
      throw new PdfError('bad-xref', `object stream ${num} is not stored directly in the file`);
    const stream = this.object(new PdfRef(num, e.gen));
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
    const data = decodeStream(stream, Math.min(this.options.maxStreamBytes, this.decodedBudget));
    this.decodedBudget -= data.length;
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
    const os = { data, first, index };
    this.objectStreams.set(num, os);
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
      doc = PdfDocument.open(this.latest.bytes.subarray(0, end), this.latest.options);
      this.docs.set(i, doc);
    }
    return doc;
  }
}
