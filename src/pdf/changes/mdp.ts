import { PdfError } from '../errors.js';
import type { PdfDocument, Revision, SignatureField } from '../syntax/index.js';
import {
  dict,
  encodeText,
  isName,
  name,
  PdfDict,
  type PdfRef,
  type PdfValue,
  textOf,
} from '../syntax/index.js';

// Modification detection and prevention (ISO 32000-1 §12.8.2): what a certifying signature (DocMDP) and
// field locks (FieldMDP) allow after them, read from the signature dictionaries, where they are signed.

/** DocMDP permission: 1 no changes, 2 form filling and signing, 3 also annotations. */
export type DocMdpLevel = 1 | 2 | 3;

/** The fields a FieldMDP transform or a /Lock dictionary locks. */
export type FieldLock = { action: 'all' } | { action: 'include' | 'exclude'; fields: string[] };

/** What the signatures up to a revision allow after it. */
export interface MdpPolicy {
  /** The DocMDP level of a certifying signature at or before the revision; absent when uncertified. */
  level?: DocMdpLevel;
  locks: FieldLock[];
}

/** The transforms a signature dictionary declares in /Reference. */
export interface SignatureTransforms {
  docMdp?: DocMdpLevel;
  fieldMdp?: FieldLock;
}

/** Whether a lock covers a field name (a lock on a parent covers its descendants). */
export function lockCovers(lock: FieldLock, field: string): boolean {
  if (lock.action === 'all') return true;
  const named = lock.fields.some((f) => field === f || field.startsWith(`${f}.`));
  return lock.action === 'include' ? named : !named;
}

/** Reads a /Lock dictionary or FieldMDP /TransformParams; an unreadable one locks everything. */
export function readFieldLock(doc: PdfDocument, v: PdfValue | undefined): FieldLock | undefined {
  const d = doc.resolve(v);
  if (d === undefined || d === null) return undefined;
  if (!(d instanceof PdfDict)) return { action: 'all' };
  const action = doc.get(d, 'Action');
  const fields = doc.resolve(d.get('Fields'));
  const names = Array.isArray(fields) ? fields.map((f) => textOf(doc.resolve(f))) : undefined;
  if (isName(action, 'Include') || isName(action, 'Exclude')) {
    if (!names || names.some((n) => n === undefined)) return { action: 'all' };
    return { action: isName(action, 'Include') ? 'include' : 'exclude', fields: names as string[] };
  }
  return { action: 'all' };
}

/** The DocMDP and FieldMDP transforms of a signature dictionary's /Reference array. */
export function readTransforms(doc: PdfDocument, sig: PdfDict): SignatureTransforms {
  const out: SignatureTransforms = {};
  const refs = doc.resolve(sig.get('Reference'));
  if (!Array.isArray(refs)) return out;
  for (const item of refs) {
    const r = doc.resolve(item);
    if (!(r instanceof PdfDict)) continue;
    const method = doc.get(r, 'TransformMethod');
    const params = doc.resolve(r.get('TransformParams'));
    if (isName(method, 'DocMDP')) {
      const p = params instanceof PdfDict ? doc.get(params, 'P') : undefined;
      // Default 2 (§12.8.2.2); a value outside 1–3 is read as the strictest.
      out.docMdp = p === undefined ? 2 : p === 2 || p === 3 ? p : 1;
    } else if (isName(method, 'FieldMDP'))
      out.fieldMdp = readFieldLock(doc, params ?? null) ?? { action: 'all' };
  }
  return out;
}

/** The revision (0-based) a signature's /ByteRange ends with, if it ends with one. */
export function signedRevision(field: SignatureField, revisions: Revision[]): number | undefined {
  const br = field.signature?.byteRange;
  if (!Array.isArray(br) || br.length !== 4 || !br.every((n) => typeof n === 'number')) return undefined;
  const end = (br[2] as number) + (br[3] as number);
  const i = revisions.findIndex((r) => r.end === end || r.eofOffset + 5 === end);
  return i < 0 ? undefined : i;
}

/** Each signed field's transforms and revision, for building policies. */
export interface SignedTransforms extends SignatureTransforms {
  field: string;
  revision?: number;
}

/** The transforms of every signature, with field locks from /Lock as well as /Reference. */
export function collectTransforms(
  doc: PdfDocument,
  fields: SignatureField[],
  revisions: Revision[],
): SignedTransforms[] {
  return fields
    .filter((f) => f.signature)
    .map((f) => {
      const t = readTransforms(doc, f.signature!.dict);
      const lock = t.fieldMdp ?? readFieldLock(doc, f.dict.get('Lock'));
      return { field: f.name, revision: signedRevision(f, revisions), docMdp: t.docMdp, fieldMdp: lock };
    });
}

/**
 * The policy that judges changes after revision k: the strictest DocMDP level and every field lock of the
 * signatures at or before it. A signature whose revision is unknown counts, to fail closed.
 */
export function policyAt(all: SignedTransforms[], k: number): MdpPolicy {
  const policy: MdpPolicy = { locks: [] };
  for (const t of all) {
    if (t.revision !== undefined && t.revision > k) continue;
    if (t.docMdp !== undefined) policy.level = Math.min(policy.level ?? 3, t.docMdp) as DocMdpLevel;
    if (t.fieldMdp) policy.locks.push(t.fieldMdp);
  }
  return policy;
}

/** The fields a new signature locks, as signing asks for it. */
export type LockFields = 'all' | { include: string[] } | { exclude: string[] };

/** What a signature declares: its /Reference entries and its field's /Lock dictionary. */
export function declareTransforms(
  certify: DocMdpLevel | undefined,
  lockFields: LockFields | undefined,
  catalog: PdfRef,
): { reference?: PdfValue[]; lock?: PdfDict } {
  const reference: PdfValue[] = [];
  if (certify !== undefined) {
    if (certify !== 1 && certify !== 2 && certify !== 3)
      throw new PdfError('bad-input', 'certify must be 1, 2 or 3');
    reference.push(sigRef('DocMDP', dict({ Type: name('TransformParams'), P: certify, V: name('1.2') })));
  }
  let lock: PdfDict | undefined;
  if (lockFields !== undefined) {
    const entries = lockEntries(lockFields);
    lock = dict({ Type: name('SigFieldLock'), ...entries });
    // /Data names the catalog, as PDF 1.7 requires for FieldMDP; PDF 2.0 ignores it.
    reference.push(
      sigRef('FieldMDP', dict({ Type: name('TransformParams'), ...entries, V: name('1.2') }), catalog),
    );
  }
  return { reference: reference.length ? reference : undefined, lock };
}

function sigRef(method: string, params: PdfDict, data?: PdfRef): PdfDict {
  return dict({ Type: name('SigRef'), TransformMethod: name(method), TransformParams: params, Data: data });
}

function lockEntries(l: LockFields): Record<string, PdfValue> {
  if (l === 'all') return { Action: name('All') };
  const [action, fields] = 'include' in l ? ['Include', l.include] : ['Exclude', l.exclude];
  if (!Array.isArray(fields) || !fields.length || fields.some((f) => typeof f !== 'string' || !f))
    throw new PdfError('bad-input', 'lockFields needs at least one field name');
  return { Action: name(action), Fields: fields.map((f) => encodeText(f)) };
}
