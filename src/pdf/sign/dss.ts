import { createHash } from 'node:crypto';
import { PdfError } from '../errors.js';
import {
  decodeStream,
  dict,
  IncrementalUpdate,
  name,
  PdfDict,
  PdfDocument,
  PdfRef,
  PdfStream,
  type PdfValue,
  type ReadOptions,
  Revisions,
} from '../syntax/index.js';

// The Document Security Store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3): certificates, OCSP
// responses and CRLs kept in the document so that its signatures can be validated long after the
// services that answered have gone. It is written as an incremental update, so earlier signatures
// stay intact, and it only grows: what an earlier DSS held is kept.

/** Validation data, each item DER. */
export interface ValidationData {
  certs: Uint8Array[];
  ocsps: Uint8Array[];
  crls: Uint8Array[];
}

/** What to add: the data, and optionally the signatures (their /Contents bytes) it validates, for /VRI. */
export interface DssAddition extends Partial<ValidationData> {
  vri?: { contents: Uint8Array; certs?: Uint8Array[]; ocsps?: Uint8Array[]; crls?: Uint8Array[] }[];
}

const KEYS = { certs: 'Certs', ocsps: 'OCSPs', crls: 'CRLs' } as const;
const VRI_KEYS = { certs: 'Cert', ocsps: 'OCSP', crls: 'CRL' } as const;
const MAX_ITEM_BYTES = 16 * 1024 * 1024;
/** Most entries one DSS array may have: a bound on what a crafted file can make validation parse. */
const MAX_ITEMS = 10_000;

/** The /VRI key of a signature: upper-case hex SHA-1 of its /Contents string's bytes. */
export function vriKey(contents: Uint8Array): string {
  return createHash('sha1').update(contents).digest('hex').toUpperCase();
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The DSS dictionary of a document, or undefined. */
function dssDict(doc: PdfDocument): { dict: PdfDict; ref?: PdfRef } | undefined {
  const v = doc.catalog().get('DSS');
  const d = doc.resolve(v);
  if (d === undefined || d === null) return undefined;
  if (!(d instanceof PdfDict)) throw new PdfError('bad-structure', '/DSS is not a dictionary');
  return { dict: d, ref: v instanceof PdfRef ? v : undefined };
}

/** An array entry of a dictionary, resolved, as its items; a missing entry is empty. */
function items(doc: PdfDocument, d: PdfDict, key: string): PdfValue[] {
  const v = doc.get(d, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PdfError('bad-structure', `/DSS /${key} is not an array`);
  if (v.length > MAX_ITEMS) throw new PdfError('limit', `/DSS /${key} has more than ${MAX_ITEMS} entries`);
  return v;
}

function streamBytes(doc: PdfDocument, v: PdfValue, what: string): Uint8Array {
  const s = doc.resolve(v);
  if (!(s instanceof PdfStream)) throw new PdfError('bad-structure', `${what} is not a stream`);
  return decodeStream(s, Math.min(MAX_ITEM_BYTES, doc.options.maxStreamBytes));
}

/** The validation data in a document's DSS (empty when it has none). */
export function readDss(doc: PdfDocument): ValidationData {
  const out: ValidationData = { certs: [], ocsps: [], crls: [] };
  const dss = dssDict(doc);
  if (!dss) return out;
  for (const [k, key] of Object.entries(KEYS) as [keyof ValidationData, string][])
    for (const item of items(doc, dss.dict, key)) out[k].push(streamBytes(doc, item, `a /DSS /${key} entry`));
  return out;
}

/**
 * The validation data of every revision's DSS of a file, deduplicated: a later revision may have
 * dropped what an earlier one held, and what was once stored still counts as evidence.
 */
export function readAllDss(pdf: Uint8Array | Revisions, options?: ReadOptions): ValidationData {
  const revisions = pdf instanceof Revisions ? pdf : new Revisions(PdfDocument.open(pdf, options));
  const all: ValidationData = { certs: [], ocsps: [], crls: [] };
  for (let i = 0; i < revisions.list.length; i++) {
    const newest = i === revisions.list.length - 1;
    let d: ValidationData;
    try {
      d = readDss(revisions.document(i));
    } catch (e) {
      // The newest revision must read; an earlier one that does not only gives no evidence.
      if (newest) throw e;
      continue;
    }
    for (const k of Object.keys(KEYS) as (keyof ValidationData)[]) all[k].push(...d[k]);
  }
  return dedupe(all);
}

function unique(list: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return list.filter((b) => {
    const h = hex(b);
    if (seen.has(h)) return false;
    seen.add(h);
    return true;
  });
}

function dedupe(d: ValidationData): ValidationData {
  return { certs: unique(d.certs), ocsps: unique(d.ocsps), crls: unique(d.crls) };
}

/**
 * Appends an incremental update whose catalog has a /DSS holding the existing DSS's entries plus the
 * new data (each item once, as a stream of its DER), and /VRI entries when asked.
 */
export function addDss(pdf: Uint8Array, addition: DssAddition, options?: ReadOptions): Uint8Array {
  const doc = PdfDocument.open(pdf, options);
  const update = new IncrementalUpdate(doc);
  const existing = dssDict(doc);
  const next = existing ? existing.dict.copy() : dict({ Type: name('DSS') });
  // Known items by content: those in the DSS keep their objects, new ones get a stream each.
  const refs = new Map<string, PdfValue>();
  const refOf = (der: Uint8Array): PdfValue => {
    const known = refs.get(hex(der));
    if (known) return known;
    const ref = update.newRef();
    update.set(ref, new PdfStream(new PdfDict(), der));
    refs.set(hex(der), ref);
    return ref;
  };
  for (const [k, key] of Object.entries(KEYS) as [keyof ValidationData, string][]) {
    const list = existing ? items(doc, existing.dict, key) : [];
    for (const item of list) refs.set(hex(streamBytes(doc, item, `a /DSS /${key} entry`)), item);
    // What a /VRI entry names is in the arrays too: readers that ignore /VRI still find it.
    const wanted = [...(addition[k] ?? []), ...(addition.vri ?? []).flatMap((v) => v[k] ?? [])];
    const added = unique(wanted).filter((der) => !refs.has(hex(der)));
    if (!list.length && !added.length) continue;
    next.set(key, [...list, ...added.map(refOf)]);
  }
  if (addition.vri?.length) {
    const old = existing ? doc.get(existing.dict, 'VRI') : undefined;
    const vri = old instanceof PdfDict ? old.copy() : new PdfDict();
    for (const v of addition.vri) {
      const entry = dict({ Type: name('VRI') });
      for (const [k, key] of Object.entries(VRI_KEYS) as [keyof ValidationData, string][]) {
        const list = unique(v[k] ?? []);
        if (list.length) entry.set(key, list.map(refOf));
      }
      vri.set(vriKey(v.contents), entry);
    }
    next.set('VRI', vri);
  }
  // An indirect DSS: later extensions change that object, not the catalog again.
  if (existing?.ref) update.set(existing.ref, next);
  else {
    const ref = update.newRef();
    update.set(ref, next);
    update.set(doc.rootRef(), doc.catalog().copy().set('DSS', ref));
  }
  return update.write().bytes;
}
