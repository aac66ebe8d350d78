import { constants, inflateSync } from 'node:zlib';
import { PdfError } from '../errors.js';
import { isName, PdfDict, type PdfStream, type PdfValue } from './objects.js';
import { unfilter } from './png.js';

// Stream decoding for what signing and verification read themselves: cross-reference streams and object
// streams, which writers compress with FlateDecode and (for xref streams) a PNG predictor (§7.4.4).

function unsupported(message: string): never {
  throw new PdfError('unsupported-filter', message);
}

/** Decodes a stream's data, producing at most maxBytes. */
export function decodeStream(stream: PdfStream, maxBytes: number): Uint8Array {
  const filter = stream.dict.get('Filter');
  const parms = stream.dict.get('DecodeParms');
  const filters = Array.isArray(filter) ? filter : filter === undefined ? [] : [filter];
  const parmList = Array.isArray(parms) ? parms : [parms];
  if (filters.length > 1) unsupported('chains of filters are not supported');
  if (filters.length === 0) {
    if (stream.data.length > maxBytes) throw new PdfError('limit', `stream larger than ${maxBytes} bytes`);
    return stream.data;
  }
  if (!isName(filters[0], 'FlateDecode')) unsupported(`filter ${describe(filters[0])} is not supported`);
  const inflated = inflate(stream.data, maxBytes);
  const p = parmList[0];
  return p instanceof PdfDict ? unpredict(inflated, p) : inflated;
}

function describe(v: PdfValue): string {
  return isName(v) ? `/${v.value}` : 'of an unknown kind';
}

function inflate(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    // Sync flush accepts streams whose writer left off the final Adler-32, which is common.
    return new Uint8Array(
      inflateSync(data, { maxOutputLength: maxBytes, finishFlush: constants.Z_SYNC_FLUSH }),
    );
  } catch (e) {
    if (e instanceof RangeError)
      throw new PdfError('limit', `stream inflates to more than ${maxBytes} bytes`);
    throw new PdfError('bad-stream', `FlateDecode failed: ${(e as Error).message}`);
  }
}

function intParm(p: PdfDict, key: string, fallback: number, max: number): number {
  const v = p.get(key);
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new PdfError('bad-stream', `bad /${key} in /DecodeParms`);
  return v;
}

/** Undoes a TIFF (2) or PNG (10–15) predictor. */
function unpredict(data: Uint8Array, p: PdfDict): Uint8Array {
  const predictor = intParm(p, 'Predictor', 1, 15);
  if (predictor === 1) return data;
  const colors = intParm(p, 'Colors', 1, 32);
  const bits = intParm(p, 'BitsPerComponent', 8, 16);
  const columns = intParm(p, 'Columns', 1, 1 << 24);
  if (bits !== 8) unsupported('predictors over other than 8-bit components are not supported');
  const bpp = colors;
  const rowLength = columns * colors;
  if (predictor === 2) {
    const out = Uint8Array.from(data);
    for (let row = 0; row + rowLength <= out.length; row += rowLength)
      for (let i = row + bpp; i < row + rowLength; i++) out[i] = (out[i] + out[i - bpp]) & 0xff;
    return out;
  }
  if (predictor < 10) unsupported(`predictor ${predictor} is not supported`);
  return unfilter(data, Math.floor(data.length / (rowLength + 1)), rowLength, bpp);
}
