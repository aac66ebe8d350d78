import { createHash } from 'node:crypto';
import {
  type HashName,
  hashOf,
  parseCertificate,
  parseSignedData,
  parseTimeStampToken,
  type SignatureAlgorithm,
} from '../pki/index.js';
import { addAppearance, appearancePage, type SignatureAppearance } from './appearance.js';
import { PdfError } from './errors.js';
import { IncrementalUpdate, RawObject } from './incremental.js';
import { ByteWriter, dict, name, type PdfDict, PdfRef, type PdfValue, writeValue } from './objects.js';
import { signPadesCms, type TimeStampCallback } from './pades.js';
import { PdfDocument, type ReadOptions } from './reader.js';
import { encodeText, formatPdfDate } from './text.js';

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
}

/** A prepared document waiting for its CMS. */
export interface PreparedSignature {
  prepared: Uint8Array;
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

/** The digest of the bytes a ByteRange covers. */
export function byteRangeDigest(pdf: Uint8Array, range: ByteRange, hash: HashName): Uint8Array {
  const [a, b, c, d] = range;
  return new Uint8Array(
    createHash(hash)
      .update(pdf.subarray(a, a + b))
      .update(pdf.subarray(c, c + d))
      .digest(),
  );
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

  const update = new IncrementalUpdate(doc);
  const sigRef = update.newRef();
  const fieldRef = update.newRef();
  const sig = signatureDictionary(options, contentsSize, kind);
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
    }),
  );

  const pageCopy = page.dict.copy();
  const annots = arrayEntry(doc, page.dict, 'Annots');
  putArray(update, pageCopy, 'Annots', { ...annots, items: [...annots.items, fieldRef] });
  if (!annots.ref) update.set(page.ref, pageCopy);

  const rootRef = doc.rootRef();
  const form = doc.acroForm();
  if (!form) {
    const formRef = update.newRef();
    update.set(formRef, dict({ Fields: [fieldRef], SigFlags: 3 }));
    update.set(rootRef, doc.catalog().copy().set('AcroForm', formRef));
  } else {
    const formCopy = form.dict.copy();
    const fields = arrayEntry(doc, form.dict, 'Fields');
    putArray(update, formCopy, 'Fields', { ...fields, items: [...fields.items, fieldRef] });
    const flags = doc.resolve(form.dict.get('SigFlags'));
    formCopy.set('SigFlags', (typeof flags === 'number' ? flags : 0) | 3);
    if (form.ref) update.set(form.ref, formCopy);
    else update.set(rootRef, doc.catalog().copy().set('AcroForm', formCopy));
  }

  const { bytes, bodyOffsets } = update.write();
  const body = bodyOffsets.get(sigRef.num)!;
  const start = body + sig.contentsAt;
  const end = start + 2 + 2 * contentsSize;
  const byteRange: ByteRange = [0, start, end, bytes.length - end];
  const text =
    `[0 ${byteRange[1]} ${byteRange[2]} ${byteRange[3]}`.padEnd(BYTE_RANGE_PLACEHOLDER.length - 1) + ']';
  if (text.length !== BYTE_RANGE_PLACEHOLDER.length)
    badInput('the file is too large for a 10-digit /ByteRange');
  bytes.set(Buffer.from(text, 'latin1'), body + sig.byteRangeAt);
  return {
    prepared: bytes,
    byteRange,
    fieldName,
    contentsSize,
    digest: (hash) => byteRangeDigest(bytes, byteRange, hash),
  };
}

/** Writes the CMS hex into the placeholder of a prepared file, in place. */
function fillContents(target: Uint8Array, range: ByteRange, cms: Uint8Array): void {
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
  target.set(Buffer.from(Buffer.from(cms).toString('hex').toUpperCase(), 'latin1'), range[1] + 1);
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
  // The prepared buffer is ours: fill it rather than copy a large file again.
  fillContents(prepared.prepared, prepared.byteRange, cms);
  return prepared.prepared;
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
  fillContents(prepared.prepared, prepared.byteRange, token);
  return prepared.prepared;
}
