import type { PdfDocument } from '../syntax/index.js';
import {
  isName,
  numberValue,
  PdfDict,
  PdfName,
  PdfReal,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from '../syntax/index.js';
import { dictOf } from './compare.js';

// The shapes of objects a later revision may legitimately add or change, and small readers for them.

/** Annotations that mark up or comment and cannot hide what is under them (P3 allows these). */
export const COMMENT_SUBTYPES = new Set([
  'Text',
  'Popup',
  'Highlight',
  'Underline',
  'Squiggly',
  'StrikeOut',
  'Caret',
]);
/** Entries a DSS and its VRI dictionaries may have (ETSI EN 319 142-1 §5.4.2). */
export const DSS_KEYS = new Set(['Type', 'Certs', 'OCSPs', 'CRLs', 'VRI']);
export const VRI_KEYS = new Set(['Type', 'Cert', 'OCSP', 'CRL', 'TS', 'TU']);

/** A signature dictionary's kind, or undefined when it is not one. */
export function signatureKind(v: PdfValue | undefined): 'signature' | 'document-timestamp' | undefined {
  const d = dictOf(v);
  if (!d || v instanceof PdfStream) return undefined;
  const type = d.get('Type');
  if (isName(type, 'DocTimeStamp') || isName(d.get('SubFilter'), 'ETSI.RFC3161')) return 'document-timestamp';
  return type === undefined || isName(type, 'Sig') ? 'signature' : undefined;
}

/** An information dictionary: text entries and /Trapped, nothing a page could use. */
export function isInfo(v: PdfValue | undefined): boolean {
  if (!(v instanceof PdfDict)) return false;
  return [...v.entries].every(
    ([k, x]) => x instanceof PdfString || (k === 'Trapped' && x instanceof PdfName),
  );
}

/** An XMP metadata stream (§14.3.2). */
export function isXmp(v: PdfValue | undefined): boolean {
  return (
    v instanceof PdfStream && isName(v.dict.get('Type'), 'Metadata') && isName(v.dict.get('Subtype'), 'XML')
  );
}

const EXTENSION_KEYS = new Set(['Type', 'BaseVersion', 'ExtensionLevel', 'URL', 'ExtensionRevision']);

/**
 * A developer extensions dictionary (§7.12): prefixes mapping to extension dictionaries, or arrays of
 * them (ISO 32000-2), each direct or an object of its own, holding nothing but the extension's entries.
 */
export function isExtensions(doc: PdfDocument, v: PdfValue | undefined): boolean {
  if (!(v instanceof PdfDict)) return false;
  const isExtension = (x: PdfValue | undefined) => {
    const d = doc.resolve(x);
    return (
      d instanceof PdfDict &&
      !(d instanceof PdfStream) &&
      [...d.entries].every(([k, e]) => EXTENSION_KEYS.has(k) && !(e instanceof PdfDict) && !Array.isArray(e))
    );
  };
  return [...v.entries].every(([k, x]) => {
    if (k === 'Type') return x instanceof PdfName;
    const items = doc.resolve(x);
    return Array.isArray(items) ? items.every(isExtension) : isExtension(x);
  });
}

/** PDF versions a catalog's /Version may name (§7.2.2). */
const VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.7', '2.0'];

/** A /Version that names a known PDF version no lower than the one before: a later writer's right. */
export function raisesVersion(before: string, after: PdfValue | undefined): boolean {
  return (
    isName(after) &&
    VERSIONS.includes(after.value) &&
    VERSIONS.indexOf(after.value) >= VERSIONS.indexOf(before)
  );
}

/** The version a document declares: its header's, or its catalog's /Version when that is later (§7.2.2). */
export function declaredVersion(doc: PdfDocument): string {
  const v = doc.resolve(doc.catalog().get('Version'));
  return isName(v) && VERSIONS.indexOf(v.value) > VERSIONS.indexOf(doc.version) ? v.value : doc.version;
}

/** A short description of an object for a message: its /Type or /Subtype, or what it is. */
export function describe(v: PdfValue): string {
  const d = dictOf(v);
  const t = d?.get('Type') ?? d?.get('Subtype');
  if (isName(t)) return `${v instanceof PdfStream ? 'stream ' : ''}/${t.value}`;
  if (v instanceof PdfStream) return 'a stream';
  if (d) return 'a dictionary';
  if (Array.isArray(v)) return 'an array';
  return v instanceof PdfReal || typeof v === 'number' ? 'a number' : 'a value';
}

/** An annotation's /Rect, normalized. */
export function rect(doc: PdfDocument, d: PdfDict | undefined): [number, number, number, number] | undefined {
  const v = d ? doc.resolve(d.get('Rect')) : undefined;
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  const n = v.map((x) => numberValue(doc.resolve(x)));
  if (n.some((x) => x === undefined)) return undefined;
  const [a, b, c, e] = n as number[];
  return [Math.min(a, c), Math.min(b, e), Math.max(a, c), Math.max(b, e)];
}

export function area(doc: PdfDocument, d: PdfDict | undefined): number {
  const r = rect(doc, d);
  return r ? (r[2] - r[0]) * (r[3] - r[1]) : 0;
}

/** An array of references (absent is empty), or undefined when it is anything else. */
export function refs(v: PdfValue | undefined): PdfRef[] | undefined {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) && v.every((x) => x instanceof PdfRef) ? (v as PdfRef[]) : undefined;
}
