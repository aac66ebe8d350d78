import { createHash } from 'node:crypto';
import {
  type HashName,
  hashOf,
  parseCertificate,
  parseSignedData,
  parseTimeStampToken,
  type SignatureAlgorithm,
} from '../../pki/index.js';
import { addAppearance, appearancePage, type SignatureAppearance } from '../appearance/index.js';
import { type DocMdpLevel, declareTransforms, type LockFields } from '../changes/index.js';
import { PdfError } from '../errors.js';
import {
  ByteWriter,
  dict,
  encodeText,
  formatPdfDate,
  IncrementalUpdate,
  name,
  PdfDict,
  PdfDocument,
  PdfRef,
  type PdfValue,
  RawObject,
  type ReadOptions,
  writeValue,
} from '../syntax/index.js';
import { signPadesCms, type TimeStampCallback } from './pades.js';

// Signing in two steps, so that a key elsewhere (a USB token on a leader's PC, a remote HSM) can sign in
// between: prepare appends the signature field and a dictionary whose /Contents is a run of zeros and
// whose /ByteRange covers everything else; complete writes the CMS into the zeros and nothing else.

/** [0, start of /Contents, end of /Contents, bytes after it]. */
export type ByteRange = [number, number, number, number];

/** How the signature field and dictionary are written. */
export interface SignatureOptions {
  /** Name of the new signature field (default Signature1, Signature2, … the first not taken). */
  fieldName?: string;
  /** Page (1-based) whose annotations hold the field's widget (default 1); an appearance sets its own. */
  page?: number;
  /** A visible signature (image, seal or text stamp); without it the widget is invisible. */
  appearance?: SignatureAppearance;
  /** Claimed signing time for /M (default now); the trusted time is the time-stamp's. */
  signingTime?: Date;
  /** Offset east of UTC in minutes for /M (default 420, Vietnam time). */
  timeZoneOffset?: number;
  name?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Bytes reserved for the CMS (default 16 KiB): room for a chain and a time-stamp token. */
  contentsSize?: number;
  read?: ReadOptions;
  /**
   * The input's real bytes in order, for a large file whose `pdf` holds only its structure (stream
   * bodies left as zeros, see cli/pdf-file.ts): the digest is taken over these, never over `pdf`.
   */
  original?: () => Iterable<Uint8Array>;
  /** Certifies the document (DocMDP) with this permission level; only the first signature may. */
  certify?: DocMdpLevel;
  /** Locks form fields (FieldMDP) against changes after this signature. */
  lockFields?: LockFields;
}

/** A prepared document waiting for its CMS. */
export interface PreparedSignature {
  /** The whole prepared file, joined on first use; large files should use original and appended. */
  readonly prepared: Uint8Array;
  /** The input, untouched: the prepared file is these bytes followed by appended. */
  original: Uint8Array;
  /** The new revision with the signature dictionary and its zeroed /Contents. */
  appended: Uint8Array;
  byteRange: ByteRange;
  fieldName: string;
  /** Bytes the CMS may take. */
  contentsSize: number;
  /** The digest of the byte ranges, which the CMS messageDigest carries. */
  digest(hash: HashName): Uint8Array;
}

/** The key that signs: what keys/ Signer offers, taken structurally so that pdf/ needs only pki/. */
export interface PdfSigner {
  readonly algorithm: SignatureAlgorithm;
  /** SubjectPublicKeyInfo, DER. */
  readonly publicKey: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** The field options that apply to a document time-stamp. */
export type DocumentTimeStampOptions = Pick<SignatureOptions, 'fieldName' | 'page' | 'contentsSize' | 'read'>;

/** Gets an RFC 3161 TimeStampToken (DER) whose message imprint is the given digest. */
export type DigestTimeStampCallback = (digest: Uint8Array, hash: HashName) => Promise<Uint8Array>;

/** What signPdf needs besides the field options. */
export interface SignPdfOptions extends SignatureOptions {
  signer: PdfSigner;
  certificate: Uint8Array;
  /** Issuing CA certificates to embed, the signer's issuer first. */
  chain?: Uint8Array[];
  /** Gets a signature time-stamp token (B-T); without it the signature is B-B. */
  timestamp?: TimeStampCallback;
}

const DEFAULT_CONTENTS = 16 * 1024;
const MIN_CONTENTS = 1024;
const MAX_CONTENTS = 4 * 1024 * 1024;
const MAX_TEXT = 1024;
/** Ten digits per number: enough for files up to 9.3 GiB, fixed so patching moves no byte. */
const BYTE_RANGE_PLACEHOLDER = '[0 0000000000 0000000000 0000000000]';

function badInput(message: string): never {
  throw new PdfError('bad-input', message);
}

/**
 * The digest of the bytes a ByteRange covers, in a file given whole or as consecutive parts (read once,
 * in order, so the parts may come from a file chunk by chunk).
 */
export function byteRangeDigest(
  pdf: Uint8Array | Iterable<Uint8Array>,
  range: ByteRange,
  hash: HashName,
): Uint8Array {
  const parts = pdf instanceof Uint8Array ? [pdf] : pdf;
  const h = createHash(hash);
  const [a, b, c, d] = range;
  let offset = 0;
  for (const part of parts) {
    // The ranges are in file order, so within a part the first's bytes come before the second's.
    for (const [from, to] of [
      [a, a + b],
      [c, c + d],
    ]) {
      const start = Math.max(from, offset);
      const end = Math.min(to, offset + part.length);
      if (start < end) h.update(part.subarray(start - offset, end - offset));
    }
    offset += part.length;
  }
  return new Uint8Array(h.digest());
}

function checkText(label: string, v: string | undefined): void {
  if (v !== undefined && (typeof v !== 'string' || v.length > MAX_TEXT))
    badInput(`${label} must be a string of at most ${MAX_TEXT} characters`);
}

function chooseFieldName(doc: PdfDocument, wanted: string | undefined): string {
  const taken = new Set(doc.fields().map((f) => f.name));
  if (wanted !== undefined) {
    if (!/^[^.]{1,255}$/.test(wanted)) badInput('field name must be 1–255 characters without "."');
    if (taken.has(wanted))
      throw new PdfError('field-exists', `the document already has a field named ${wanted}`);
    return wanted;
  }
  for (let n = 1; ; n++) if (!taken.has(`Signature${n}`)) return `Signature${n}`;
}

/**
 * The signature dictionary with placeholders, and where they are within it: a PAdES signature, or a
 * document time-stamp (ETSI EN 319 142-1 §5.4), which has no claimed time or signer texts.
 */
function signatureDictionary(
  options: SignatureOptions,
  contentsSize: number,
  kind: 'signature' | 'document-timestamp',
  reference?: PdfValue[],
) {
  const out = new ByteWriter();
  const entry = (key: string, v: PdfValue) => {
    out.text(` /${key} `);
    writeValue(out, v);
  };
  if (kind === 'document-timestamp')
    out.text('<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161');
  else {
    out.text('<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached');
    entry('M', encodeText(formatPdfDate(options.signingTime ?? new Date(), options.timeZoneOffset ?? 420)));
    if (options.name !== undefined) entry('Name', encodeText(options.name));
    if (options.reason !== undefined) entry('Reason', encodeText(options.reason));
    if (options.location !== undefined) entry('Location', encodeText(options.location));
    if (options.contactInfo !== undefined) entry('ContactInfo', encodeText(options.contactInfo));
    if (reference) entry('Reference', reference);
  }
  out.text(' /ByteRange ');
  const byteRangeAt = out.length;
  out.text(BYTE_RANGE_PLACEHOLDER).text(' /Contents ');
  const contentsAt = out.length;
  out.text(`<${'0'.repeat(2 * contentsSize)}> >>`);
  return { body: out.toBytes(), byteRangeAt, contentsAt };
}

/** The array value of an entry that may be indirect; writes go back where the array lives. */
function arrayEntry(doc: PdfDocument, d: PdfDict, key: string): { items: PdfValue[]; ref?: PdfRef } {
  const v = d.get(key);
  if (v === undefined) return { items: [] };
  const resolved = doc.resolve(v);
  if (resolved === null) return { items: [] };
  if (!Array.isArray(resolved)) throw new PdfError('bad-structure', `/${key} is not an array`);
  return { items: resolved, ref: v instanceof PdfRef ? v : undefined };
}

/** Sets an array entry: into its own object when it was indirect, else into the dictionary copy. */
function putArray(
  update: IncrementalUpdate,
  target: PdfDict,
  key: string,
  array: { items: PdfValue[]; ref?: PdfRef },
) {
  if (array.ref) update.set(array.ref, array.items);
  else target.set(key, array.items);
}

/**
 * Step one: appends a signature field on a page, invisible or with an appearance, adds it to the form
 * (creating /AcroForm if need be, /SigFlags 3) and reserves /Contents. The bytes before the new
 * revision do not change.
 */
export function prepareSignature(pdf: Uint8Array, options: SignatureOptions = {}): PreparedSignature {
  return prepareField(pdf, options, 'signature');
}

/** Step one of a document time-stamp: like prepareSignature, with an ETSI.RFC3161 dictionary. */
export function prepareDocumentTimeStamp(
  pdf: Uint8Array,
  options: DocumentTimeStampOptions = {},
): PreparedSignature {
  return prepareField(pdf, options, 'document-timestamp');
}

function prepareField(
  pdf: Uint8Array,
  options: SignatureOptions,
  kind: 'signature' | 'document-timestamp',
): PreparedSignature {
  const contentsSize = options.contentsSize ?? DEFAULT_CONTENTS;
  if (!Number.isInteger(contentsSize) || contentsSize < MIN_CONTENTS || contentsSize > MAX_CONTENTS)
    badInput(`contentsSize must be an integer from ${MIN_CONTENTS} to ${MAX_CONTENTS}`);
  for (const k of ['name', 'reason', 'location', 'contactInfo'] as const) checkText(k, options[k]);
  const doc = PdfDocument.open(pdf, options.read);
  const pages = doc.pages();
  // Document time-stamps stay invisible whatever a caller passes.
  const appearance = kind === 'signature' ? options.appearance : undefined;
  const pageNumber = appearance ? appearancePage(appearance, pages.length) : (options.page ?? 1);
  if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > pages.length)
    badInput(`page must be from 1 to ${pages.length}`);
  const page = pages[pageNumber - 1];
  const fieldName = chooseFieldName(doc, options.fieldName);
  if (options.certify !== undefined && doc.signatureFields().some((f) => f.signature))
    badInput('only the first signature of a document may certify it');
  const rootRef = doc.rootRef();
  const mdp = kind === 'signature' ? declareTransforms(options.certify, options.lockFields, rootRef) : {};

  const update = new IncrementalUpdate(doc);
  const sigRef = update.newRef();
  const fieldRef = update.newRef();
  const sig = signatureDictionary(options, contentsSize, kind, mdp.reference);
  update.set(sigRef, new RawObject(sig.body));
  const widget = appearance ? addAppearance(update, appearance, page) : undefined;
  // One dictionary as field and widget; /F 132 is Print and Locked.
  update.set(
    fieldRef,
    dict({
      FT: name('Sig'),
      Type: name('Annot'),
      Subtype: name('Widget'),
      T: encodeText(fieldName),
      V: sigRef,
      Rect: widget ? widget.rect : [0, 0, 0, 0],
      F: 132,
      P: page.ref,
      AP: widget ? dict({ N: widget.normal }) : undefined,
      Lock: mdp.lock,
    }),
  );

  const pageCopy = page.dict.copy();
  const annots = arrayEntry(doc, page.dict, 'Annots');
  putArray(update, pageCopy, 'Annots', { ...annots, items: [...annots.items, fieldRef] });
  if (!annots.ref) update.set(page.ref, pageCopy);

  const catalog = doc.catalog().copy();
  if (options.certify !== undefined && kind === 'signature') {
    // The certifying signature is named in the catalog's permissions (§12.8.4).
    const perms = doc.resolve(catalog.get('Perms'));
    catalog.set('Perms', (perms instanceof PdfDict ? perms.copy() : new PdfDict()).set('DocMDP', sigRef));
    update.set(rootRef, catalog);
  }
  const form = doc.acroForm();
  if (!form) {
    const formRef = update.newRef();
    update.set(formRef, dict({ Fields: [fieldRef], SigFlags: 3 }));
    update.set(rootRef, catalog.set('AcroForm', formRef));
  } else {
    const formCopy = form.dict.copy();
    const fields = arrayEntry(doc, form.dict, 'Fields');
    putArray(update, formCopy, 'Fields', { ...fields, items: [...fields.items, fieldRef] });
    const flags = doc.resolve(form.dict.get('SigFlags'));
    formCopy.set('SigFlags', (typeof flags === 'number' ? flags : 0) | 3);
    if (form.ref) update.set(form.ref, formCopy);
    else update.set(rootRef, catalog.set('AcroForm', formCopy));
  }

  const written = update.write();
  const { original, appended } = written;
  const body = written.bodyOffsets.get(sigRef.num)!;
  const start = body + sig.contentsAt;
  const end = start + 2 + 2 * contentsSize;
  const byteRange: ByteRange = [0, start, end, original.length + appended.length - end];
  const text =
    `[0 ${byteRange[1]} ${byteRange[2]} ${byteRange[3]}`.padEnd(BYTE_RANGE_PLACEHOLDER.length - 1) + ']';
  if (text.length !== BYTE_RANGE_PLACEHOLDER.length)
    badInput('the file is too large for a 10-digit /ByteRange');
  // The signature dictionary is in the appended part, so the original is never copied or touched.
  appended.set(Buffer.from(text, 'latin1'), body + sig.byteRangeAt - original.length);
  return {
    get prepared() {
      return written.bytes;
    },
    original,
    appended,
    byteRange,
    fieldName,
    contentsSize,
    digest: (hash) =>
      byteRangeDigest(
        options.original ? followedBy(options.original(), appended) : [original, appended],
        byteRange,
        hash,
      ),
  };
}

function* followedBy(parts: Iterable<Uint8Array>, last: Uint8Array): Iterable<Uint8Array> {
  yield* parts;
  yield last;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Writes the CMS hex into the placeholder, in place; target holds the file's bytes from targetOffset on. */
function fillContents(target: Uint8Array, range: ByteRange, cms: Uint8Array, targetOffset = 0): void {
  const capacity = (range[2] - range[1] - 2) / 2;
  if (cms.length > capacity)
    throw new PdfError(
      'contents-too-small',
      `the CMS takes ${cms.length} bytes but only ${capacity} are reserved`,
    );
  try {
    parseSignedData(cms);
  } catch (e) {
    throw new PdfError('bad-input', `not a CMS SignedData: ${(e as Error).message}`);
  }
  target.set(
    Buffer.from(Buffer.from(cms).toString('hex').toUpperCase(), 'latin1'),
    range[1] + 1 - targetOffset,
  );
}

/** The placeholder of a prepared file: the one signature whose /Contents is zeros and whose range ends the file. */
function findPlaceholder(prepared: Uint8Array): ByteRange {
  const doc = PdfDocument.open(prepared);
  const found: ByteRange[] = [];
  for (const f of doc.signatureFields()) {
    const s = f.signature;
    const br = s?.byteRange;
    if (!s?.contents?.span || !Array.isArray(br) || br.length !== 4) continue;
    if (!br.every((n) => typeof n === 'number')) continue;
    const range = br as ByteRange;
    if (range[0] !== 0 || range[2] + range[3] !== prepared.length) continue;
    if (s.contents.span.start !== range[1] || s.contents.span.end !== range[2]) continue;
    if (s.contents.bytes.every((b) => b === 0)) found.push(range);
  }
  if (found.length !== 1)
    throw new PdfError(
      'no-placeholder',
      found.length
        ? 'more than one signature placeholder'
        : 'no signature placeholder at the end of the file',
    );
  return found[0];
}

/** Step two: a copy of the prepared file with the CMS in its placeholder; no other byte changes. */
export function completeSignature(prepared: Uint8Array, cms: Uint8Array): Uint8Array {
  const range = findPlaceholder(prepared);
  const out = Uint8Array.from(prepared);
  fillContents(out, range, cms);
  return out;
}

/** Signs a PDF in one call: a PAdES B-B signature, or B-T with a time-stamp callback. */
export async function signPdf(pdf: Uint8Array, options: SignPdfOptions): Promise<Uint8Array> {
  return join(pdf, await signPdfRevision(pdf, options));
}

/**
 * Like signPdf, but returns only the new revision: the signed file is the input followed by these
 * bytes. For large files, so that the input is never copied (write it, then append the revision).
 */
export async function signPdfRevision(pdf: Uint8Array, options: SignPdfOptions): Promise<Uint8Array> {
  const { signer, certificate } = options;
  let certKey: Uint8Array;
  try {
    certKey = parseCertificate(certificate).publicKey;
  } catch (e) {
    throw new PdfError('bad-input', `the certificate cannot be read: ${(e as Error).message}`);
  }
  if (Buffer.compare(certKey, signer.publicKey) !== 0)
    throw new PdfError('certificate-key-mismatch', "the certificate is not the signer's key");
  const prepared = prepareSignature(pdf, options);
  const cms = await signPadesCms({
    digest: prepared.digest(hashOf(signer.algorithm)),
    certificate,
    chain: options.chain,
    algorithm: signer.algorithm,
    sign: (data) => signer.sign(data),
    timestamp: options.timestamp,
  });
  fillContents(prepared.appended, prepared.byteRange, cms, prepared.original.length);
  return prepared.appended;
}

/** Adds a document time-stamp (SubFilter ETSI.RFC3161) over the whole file, as PAdES B-LTA ends with. */
export async function timeStampPdf(
  pdf: Uint8Array,
  options: DocumentTimeStampOptions & { stamp: DigestTimeStampCallback; hash?: HashName },
): Promise<Uint8Array> {
  const hash = options.hash ?? 'sha256';
  const prepared = prepareDocumentTimeStamp(pdf, options);
  const digest = prepared.digest(hash);
  const token = await options.stamp(digest, hash);
  let info: ReturnType<typeof parseTimeStampToken>;
  try {
    info = parseTimeStampToken(token);
  } catch (e) {
    throw new PdfError('bad-timestamp', `the time-stamp token cannot be read: ${(e as Error).message}`);
  }
  if (info.hashAlgorithm !== hash || Buffer.compare(info.messageImprint, digest) !== 0)
    throw new PdfError('bad-timestamp', 'the time-stamp token is not over this document');
  fillContents(prepared.appended, prepared.byteRange, token, prepared.original.length);
  return join(prepared.original, prepared.appended);
}
