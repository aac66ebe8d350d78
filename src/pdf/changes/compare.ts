import { PdfError } from '../errors.js';
import {
  decodeStream,
  numberValue,
  PdfDict,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from '../syntax/index.js';

// Comparing values rather than bytes, so that an object written again with the same value is no change;
// every comparison spends a budget, a bound on what a crafted file can make the analysis do.

/** What is left to spend on comparing values in one revision. */
export interface Budget {
  left: number;
}

/** Most values compared in one revision. */
export const COMPARE_BUDGET = 2_000_000;

const STREAM_KEYS = new Set(['Length']);
const ENCODING_KEYS = new Set(['Length', 'Filter', 'DecodeParms', 'DL']);
/** Most bytes a stream is decoded to for comparing. */
const MAX_DECODED = 64 * 1024 * 1024;

/** Whether two values are the same, references compared as references; spends the budget. */
export function same(
  a: PdfValue | undefined,
  b: PdfValue | undefined,
  budget: Budget,
  skip?: Set<string>,
): boolean {
  if (--budget.left < 0) throw new PdfError('limit', 'too many values to compare');
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  const na = numberValue(a);
  if (na !== undefined) return na === numberValue(b);
  if (typeof a === 'boolean') return false;
  if (a instanceof PdfName) return b instanceof PdfName && a.value === b.value;
  if (a instanceof PdfString) return b instanceof PdfString && Buffer.compare(a.bytes, b.bytes) === 0;
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i], budget));
  if (a instanceof PdfStream) {
    if (!(b instanceof PdfStream)) return false;
    if (Buffer.compare(a.data, b.data) === 0) return same(a.dict, b.dict, budget, STREAM_KEYS);
    // Compressed differently, maybe: the same value when the decoded data and the other entries agree.
    if (!same(a.dict, b.dict, budget, ENCODING_KEYS)) return false;
    return sameDecoded(a, b, budget);
  }
  if (a instanceof PdfDict && b instanceof PdfDict) {
    const keys = new Set([...a.entries.keys(), ...b.entries.keys()]);
    for (const k of keys) if (!skip?.has(k) && !same(a.get(k), b.get(k), budget)) return false;
    return true;
  }
  return false;
}

/** Whether two streams decode to the same bytes; a stream that cannot be decoded differs. */
function sameDecoded(a: PdfStream, b: PdfStream, budget: Budget): boolean {
  try {
    const limit = Math.min(MAX_DECODED, Math.max(1, budget.left) * 64);
    const da = decodeStream(a, limit);
    const db = decodeStream(b, limit);
    budget.left -= Math.ceil((da.length + db.length) / 64);
    return Buffer.compare(da, db) === 0;
  } catch {
    return false;
  }
}

/** The keys whose values differ between two dictionaries. */
export function changedKeys(a: PdfDict, b: PdfDict, budget: Budget): string[] {
  const keys = new Set([...a.entries.keys(), ...b.entries.keys()]);
  return [...keys].filter((k) => !same(a.get(k), b.get(k), budget));
}

/** A dictionary, or a stream's dictionary. */
export const dictOf = (v: PdfValue | undefined) =>
  v instanceof PdfStream ? v.dict : v instanceof PdfDict ? v : undefined;
