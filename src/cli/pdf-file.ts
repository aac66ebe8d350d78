import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.js';

// Reading a PDF to sign it without holding its large streams in memory. Signing reads only the file's
// structure (cross-references, catalog, pages, form) and hashes the rest, so the bodies of large
// image streams are left as zeros in a full-size buffer: the kernel gives untouched pages no memory. The
// digest and the output come from the file itself, read again chunk by chunk.
//
// Leaving bytes out is safe because the reader finds every object at its cross-reference offset: an
// object in a left-out region reads as zeros, which is no object, so parsing fails and the caller reads
// the whole file instead (isStructureError). Object and cross-reference streams are never left out.

/** A PDF read for signing: whole, or with the middle of its large streams left as zeros. */
export interface PdfFile {
  /** The file's bytes, or its structure with large stream bodies zeroed when sparse. */
  bytes: Uint8Array;
  sparse: boolean;
  /** The file's real bytes, in order, read again from disk (one reused buffer: consume each in turn). */
  chunks(): Iterable<Uint8Array>;
}

/** Files smaller than this are read whole: the saving would not be worth a second read. */
const SPARSE_FROM = 8 * 2 ** 20;
/** Streams at least this long have their middle left out. */
const LARGE_STREAM = 2 ** 20;
/** Bytes kept at each end of a left-out stream, so the reader still finds `stream` and `endstream`. */
const KEEP = 64 * 1024;
const CHUNK = 2 ** 20;
/** How far back a stream header may start before the chunk it ends in. */
const LOOKBACK = 4096;
/**
 * A stream dictionary with a direct /Length and no nested dictionary, then `stream` and its end of line.
 * A /Length given as a reference, or a dictionary this does not match, keeps the stream whole.
 */
const STREAM_HEADER = /<<((?:[^<>]|<[0-9A-Fa-f\s]*>){0,2048})>>\s*stream(?:\r\n|\n)$/;
const STREAM = Buffer.from('stream', 'latin1');
const DIRECT_LENGTH = /\/Length\s+(\d{1,12})(?![\d\s]*R)(?=[\s/>]|$)/;
const NEVER_LEFT_OUT = /\/Type\s*\/(?:ObjStm|XRef)\b/;

/** Reads a PDF for signing; sparse when asked and the file is large. */
export function readPdfFile(file: string, options: { sparse: boolean }): PdfFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new UsageError(`cannot read the PDF ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    const size = fstatSync(fd).size;
    const sparse = options.sparse && size >= SPARSE_FROM;
    const bytes = sparse ? readStructure(fd, size) : readWhole(fd, size);
    return { bytes, sparse, chunks: sparse ? () => fileChunks(file, size) : () => [bytes] };
  } finally {
    closeSync(fd);
  }
}

/** Parse failures that a sparse read may cause, after which the whole file should be read. */
export function isStructureError(code: string): boolean {
  return [
    'syntax',
    'bad-xref',
    'bad-object',
    'bad-stream',
    'bad-structure',
    'cycle',
    'limit',
    'unsupported-filter',
    'unsupported',
  ].includes(code);
}

function readWhole(fd: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let pos = 0; pos < size; ) {
    const n = readSync(fd, bytes, pos, size - pos, pos);
    if (n <= 0) throw new UsageError('the PDF changed while it was being read');
    pos += n;
  }
  return bytes;
}

/** Copies the file into a zeroed buffer, leaving out the middle of each large stream it finds. */
function readStructure(fd: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const window = Buffer.allocUnsafe(LOOKBACK + CHUNK);
  const leftOut: [number, number][] = [];
  let kept = 0;
  let scanned = 0;
  for (let pos = 0; pos < size; ) {
    // The window holds up to LOOKBACK bytes before pos, so a header split across chunks is still seen.
    const back = Math.min(LOOKBACK, pos);
    window.copy(window, 0, kept - back, kept);
    const n = readSync(fd, window, back, Math.min(CHUNK, size - pos), pos);
    if (n <= 0) throw new UsageError('the PDF changed while it was being read');
    const start = pos - back;
    // Only the bytes before each `stream` keyword become a string: a string per chunk would be garbage
    // the size of the file.
    for (let i = window.indexOf(STREAM, 0); i >= 0 && i < back + n; i = window.indexOf(STREAM, i + 1)) {
      const eol = window[i + 6] === 0x0d ? 2 : 1;
      if (i + 6 + eol > back + n || window[i + 6 + eol - 1] !== 0x0a) continue;
      const at = start + i;
      if (at < scanned || leftOut.some(([from, to]) => at >= from && at < to)) continue;
      scanned = at + 1;
      const m = STREAM_HEADER.exec(window.toString('latin1', Math.max(0, i - 2200), i + 6 + eol));
      if (!m) continue;
      const body = at + 6 + eol;
      const length = Number(DIRECT_LENGTH.exec(m[1])?.[1] ?? 0);
      if (length < LARGE_STREAM || NEVER_LEFT_OUT.test(m[1]) || body + length > size) continue;
      leftOut.push([body + KEEP, body + length - KEEP]);
    }
    copyKept(window.subarray(back, back + n), pos, bytes, leftOut);
    kept = back + n;
    pos += n;
  }
  return bytes;
}

/** Copies a chunk read at pos into bytes, but for the parts inside left-out ranges. */
function copyKept(chunk: Uint8Array, pos: number, bytes: Uint8Array, leftOut: [number, number][]): void {
  let from = pos;
  const end = pos + chunk.length;
  for (const [a, b] of leftOut) {
    if (b <= from || a >= end) continue;
    if (a > from) bytes.set(chunk.subarray(from - pos, a - pos), from);
    from = Math.max(from, b);
  }
  if (from < end) bytes.set(chunk.subarray(from - pos), from);
}

/** The file read again, chunk by chunk, into one reused buffer. */
function* fileChunks(file: string, size: number): Iterable<Uint8Array> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; pos < size; ) {
      const n = readSync(fd, buffer, 0, Math.min(CHUNK, size - pos), pos);
      if (n <= 0) throw new UsageError('the PDF changed while it was being signed');
      yield buffer.subarray(0, n);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The parts one after the other, lazily: file chunks share one buffer and are written as they come. */
export function* inOrder(...sources: Iterable<Uint8Array>[]): Iterable<Uint8Array> {
  for (const source of sources) yield* source;
}
