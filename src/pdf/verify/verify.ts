import { createHash } from 'node:crypto';
import {
  CMS_OID,
  findSignerCertificate,
  type HashName,
  type ParsedSignedData,
  type ParsedSigner,
  parseCertificate,
  parseSignedData,
  parseTimeStampToken,
  verifySigner,
  verifyTimeStampToken,
} from '../../pki/index.js';
import {
  analyseChanges,
  collectTransforms,
  policyAt,
  RevisionDiffs,
  type SignedTransforms,
  signaturesAfterLastRevision,
} from '../changes/index.js';
import { PdfError } from '../errors.js';
import {
  Findings,
  type Reason,
  type SignatureReport,
  summary,
  type TimeStampReport,
  type Verdict,
  type VerificationReport,
  type VerifyOptions,
} from '../report/index.js';
import {
  type ByteRange,
  byteRangeDigest,
  readAllDss,
  SIGNATURE_TIME_STAMP_OID,
  type ValidationData,
} from '../sign/index.js';
import {
  definiteLengths,
  PdfDocument,
  type Revision,
  Revisions,
  type SignatureField,
} from '../syntax/index.js';
import { type ChainSources, KEY_USAGE, keyUsageBits, validateChain } from './chain.js';
import { checkRevocations } from './verify-revocation.js';

// The first layer of verification: integrity (ByteRange, digest, CMS signature), the signer certificate,
// time-stamps, coverage and what changed after each signature (changes.ts), as a report with a verdict and reasons per signature. It fails closed: what
// it cannot read or has not checked yet makes a signature invalid or indeterminate, never valid.

const PADES_SUB_FILTERS = new Set(['ETSI.CAdES.detached', 'adbe.pkcs7.detached']);
const KNOWN_HASHES = new Set(['sha256', 'sha384', 'sha512']);

/** Verifies every signature and document time-stamp of a PDF. */
export async function verifyPdf(pdf: Uint8Array, options: VerifyOptions = {}): Promise<VerificationReport> {
  let doc: PdfDocument;
  let fields: SignatureField[];
  let revisions: Revision[];
  let revisionDocs: Revisions;
  let transforms: SignedTransforms[];
  try {
    doc = PdfDocument.open(pdf, options.read);
    fields = doc.signatureFields();
    revisionDocs = new Revisions(doc);
    revisions = revisionDocs.list;
    transforms = collectTransforms(doc, fields, revisions);
  } catch (e) {
    // Whatever the file made the reader do, the answer is a report, never a crash.
    const code = e instanceof PdfError ? e.code : 'internal';
    return {
      verdict: 'invalid',
      reasons: ['unreadable'],
      error: { code, message: (e as Error).message },
      revisions: 0,
      signatures: [],
      unsignedFields: [],
    };
  }
  // Read once, and only when paths are validated: revocation checking uses the same data.
  const dss = options.trustAnchors?.length ? readableDss(revisionDocs) : undefined;
  const context: Context = {
    changes: { diffs: new RevisionDiffs(revisionDocs), transforms },
    sources: {
      pool: [...(dss?.certs ?? []), ...(options.certificates ?? [])],
      anchors: options.trustAnchors ?? [],
      fetchIssuers: options.fetchIssuers,
    },
    now: options.time ?? new Date(),
    proofs: [],
  };
  const signed = fields.filter((f) => f.signature);
  // Last first: a document time-stamp is the proof of existence of everything before it, which the
  // time-stamps before it may need (EN 319 102-1 §5.6.2.4).
  const signatures: SignatureReport[] = [];
  for (let i = signed.length - 1; i >= 0; i--) {
    const report = await verifySignatureField(pdf, signed[i], revisions, options, context);
    signatures.unshift(report);
    if (report.kind !== 'document-timestamp' || report.verdict === 'invalid') continue;
    const ts = report.timestamp;
    if (report.revision !== undefined && ts?.chain === 'trusted' && ts.genTime)
      context.proofs.push({ revision: report.revision, time: ts.genTime });
  }
  const named = new Set(fields.map((f) => f.name));
  for (const field of signaturesAfterLastRevision(revisionDocs))
    if (!named.has(field)) signatures.push(unreadableSignature(field));
  await checkRevocations(
    revisionDocs,
    fields.filter((f) => f.signature),
    signatures,
    options,
    dss,
  );
  const reasons: VerificationReport['reasons'] = signatures.length ? [] : ['no-signatures'];
  const verdicts = signatures.map((s) => s.verdict);
  const verdict: Verdict =
    !signatures.length || verdicts.includes('invalid')
      ? 'invalid'
      : verdicts.includes('indeterminate')
        ? 'indeterminate'
        : 'valid';
  return {
    verdict,
    reasons,
    revisions: revisions.length,
    signatures,
    unsignedFields: fields.filter((f) => !f.signature).map((f) => f.name),
  };
}

/** Every revision's DSS, or undefined when it cannot be read (revocation checking then says why). */
function readableDss(revisions: Revisions): ValidationData | undefined {
  try {
    return readAllDss(revisions);
  } catch {
    return undefined;
  }
}

/** Checks one signed field; nothing it meets may throw past it. */
async function verifySignatureField(
  pdf: Uint8Array,
  field: SignatureField,
  revisions: Revision[],
  options: VerifyOptions,
  context: Context,
): Promise<SignatureReport> {
  const sig = field.signature!;
  const f = new Findings();
  const kind = sig.subFilter === 'ETSI.RFC3161' ? 'document-timestamp' : 'signature';
  const report: SignatureReport = {
    field: field.name,
    kind,
    verdict: 'invalid',
    reasons: [],
    warnings: [],
    details: [],
    subFilter: sig.subFilter,
    coversWholeFile: false,
    integrity: { byteRange: 'not-checked', digest: 'not-checked', signature: 'not-checked' },
    chain: { status: 'not-checked' },
    revocation: { status: 'not-checked' },
    modifications: { status: 'not-checked', revisionsAfter: 0 },
    claimedSigningTime: sig.signingTime,
    name: sig.name,
    reason: sig.reason,
    location: sig.location,
    contactInfo: sig.contactInfo,
  };
  try {
    const range = checkByteRange(pdf, field, revisions, f, report);
    if (range) {
      if (kind === 'document-timestamp')
        await checkDocumentTimeStamp(pdf, range, sig.contents!.bytes, f, report, context);
      else await checkCms(pdf, range, sig.contents!.bytes, sig.subFilter, f, report, options, context);
      checkModifications(field, f, report, context.changes);
    }
  } catch (e) {
    // A structure the checks did not foresee: never valid.
    f.add('signature-unreadable', `the signature could not be checked: ${(e as Error).message}`);
  }
  report.reasons = [...f.reasons];
  report.warnings = [...f.warnings];
  report.details = f.details;
  report.verdict = f.verdict;
  return report;
}

/** A signature in bytes after the last revision: listed, never dropped, and never valid. */
function unreadableSignature(field: string): SignatureReport {
  return {
    field,
    kind: 'signature',
    verdict: 'invalid',
    reasons: ['signature-unreadable'],
    warnings: [],
    details: [`the signature ${field} lies after the last readable revision of the file`],
    coversWholeFile: false,
    integrity: { byteRange: 'not-checked', digest: 'not-checked', signature: 'not-checked' },
    chain: { status: 'not-checked' },
    revocation: { status: 'not-checked' },
    modifications: { status: 'not-checked', revisionsAfter: 0 },
  };
}

/** The document's revisions compared once, and every signature's DocMDP and FieldMDP transforms. */
interface Changes {
  diffs: RevisionDiffs;
  transforms: SignedTransforms[];
}

/** What every signature of one verification shares. */
interface Context {
  changes: Changes;
  /** Certificates for paths from every source but the CMS at hand, the anchors, and the AIA fetcher. */
  sources: ChainSources;
  /** The validation time. */
  now: Date;
  /** The document time-stamps verified so far: each proves what the revisions before its own existed. */
  proofs: { revision: number; time: Date }[];
}

/** The earliest time a later document time-stamp proves the bytes of revision `revision` existed. */
function proofOfExistence(context: Context, revision: number | undefined): Date | undefined {
  if (revision === undefined) return undefined;
  const times = context.proofs.filter((p) => p.revision > revision).map((p) => p.time.getTime());
  return times.length ? new Date(Math.min(...times)) : undefined;
}

/** What the revisions after a signature changed, judged by the DocMDP and FieldMDP of the signatures up to it. */
function checkModifications(
  field: SignatureField,
  f: Findings,
  report: SignatureReport,
  changes: Changes,
): void {
  const own = changes.transforms.find((t) => t.field === field.name);
  if (own?.docMdp) report.certification = { level: own.docMdp };
  if (own?.fieldMdp) report.fieldLock = own.fieldMdp;
  if (report.revision === undefined) return;
  const k = report.revision - 1;
  const analysis = analyseChanges(changes.diffs, k, policyAt(changes.transforms, k));
  if (analysis.undefinedObjects.length) {
    f.warnings.add('references-undefined-objects');
    f.details.push(
      `the signed revision names objects it does not define: ${analysis.undefinedObjects.join(', ')}`,
    );
  }
  // A signature over the whole file has nothing after it to list.
  if (report.coversWholeFile) return;
  report.modifications = {
    status: analysis.status,
    revisionsAfter: report.modifications.revisionsAfter,
    changes: analysis.changes,
  };
  for (const c of analysis.changes)
    if (c.kind === 'unreadable') f.add('changes-unreadable', c.description);
    else if (!c.allowed) f.add('changes-not-allowed', `revision ${c.revision}: ${c.description}`);
}

/** The ByteRange as four safe integers, or undefined. */
function readByteRange(v: unknown): ByteRange | undefined {
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  if (!v.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) return undefined;
  return v as ByteRange;
}

/**
 * Checks that the ByteRange starts at 0, lies in the file, leaves out exactly this dictionary's /Contents
 * hex string, and ends at a revision boundary; fills coverage. Returns the range when all hold.
 */
function checkByteRange(
  pdf: Uint8Array,
  field: SignatureField,
  revisions: Revision[],
  f: Findings,
  report: SignatureReport,
): ByteRange | undefined {
  const sig = field.signature!;
  const fail = (reason: Reason, detail: string) => {
    f.add(reason, detail);
    report.integrity.byteRange = 'failed';
    return undefined;
  };
  if (!sig.ref) return fail('signature-dictionary-not-indirect', 'the field /V is a direct dictionary');
  if (!sig.objectSpan)
    return fail('signature-dictionary-compressed', 'the signature dictionary is in an object stream');
  const contents = sig.contents;
  if (!contents) return fail('contents-missing', '/Contents is missing or not a string');
  if (!contents.hex) return fail('contents-not-hex', '/Contents is not a hexadecimal string');
  if (!contents.span) return fail('signature-dictionary-compressed', '/Contents was not read from the file');
  const range = readByteRange(sig.byteRange);
  if (!range) return fail('byte-range-malformed', '/ByteRange is not four non-negative integers');
  report.byteRange = range;
  const [a, b, c, d] = range;
  if (a !== 0) return fail('byte-range-malformed', '/ByteRange does not start at 0');
  if (c < b) return fail('byte-range-malformed', '/ByteRange ranges overlap or are out of order');
  const end = c + d;
  if (end > pdf.length)
    return fail('byte-range-outside-file', `/ByteRange ends at ${end}, past the file's ${pdf.length} bytes`);
  report.signedBytes = end;
  if (b !== contents.span.start || c !== contents.span.end)
    return fail(
      'byte-range-gap-not-contents',
      `the unsigned gap [${b}, ${c}) is not this signature's /Contents [${contents.span.start}, ${contents.span.end})`,
    );
  if (sig.objectSpan.end > end)
    return fail('signature-dictionary-not-signed', 'the signature dictionary ends after the signed bytes');
  const index = revisions.findIndex((r) => r.end === end || r.eofOffset + 5 === end);
  report.coversWholeFile = end === pdf.length;
  if (index < 0)
    return fail(
      'byte-range-not-at-revision-end',
      `the signed bytes end at ${end}, which is not the end of a revision`,
    );
  report.revision = index + 1;
  report.modifications.revisionsAfter = revisions.length - 1 - index;
  report.modifications.status = report.coversWholeFile ? 'none' : 'not-checked';
  report.integrity.byteRange = 'passed';
  return range;
}

/** The CMS inside /Contents as DER (BER lengths normalized); the hex string is zero-padded after it. */
function cmsBytes(contents: Uint8Array, f: Findings): Uint8Array | undefined {
  let cms: ReturnType<typeof definiteLengths>;
  try {
    cms = definiteLengths(contents);
  } catch (e) {
    f.add('cms-malformed', `/Contents does not hold a CMS: ${(e as Error).message}`);
    return undefined;
  }
  if (contents[0] !== 0x30) {
    f.add('cms-malformed', '/Contents does not hold a SEQUENCE');
    return undefined;
  }
  if (contents.subarray(cms.consumed).some((x) => x !== 0)) {
    f.add('contents-trailing-bytes', '/Contents has bytes other than zero padding after the CMS');
    return undefined;
  }
  return cms.der;
}

/** The single value of an attribute as the contents of an OCTET STRING, or undefined. */
function octetValue(signer: ParsedSigner, type: string): Uint8Array | undefined {
  const values = signer.attributes.get(type);
  if (values?.length !== 1) return undefined;
  const v = values[0];
  return v[0] === 0x04 && v[1] < 0x80 && v.length === 2 + v[1] ? v.subarray(2) : undefined;
}

async function checkCms(
  pdf: Uint8Array,
  range: ByteRange,
  contents: Uint8Array,
  subFilter: string | undefined,
  f: Findings,
  report: SignatureReport,
  options: VerifyOptions,
  context: Context,
): Promise<void> {
  // An unknown SubFilter is no reason to skip integrity: tampering must still show as invalid.
  if (!subFilter || !PADES_SUB_FILTERS.has(subFilter))
    f.add('unsupported-sub-filter', `SubFilter ${subFilter ?? '(none)'} is not supported`);
  else if (subFilter !== 'ETSI.CAdES.detached') f.warnings.add('not-pades-sub-filter');
  const der = cmsBytes(contents, f);
  if (!der) return;
  let sd: ParsedSignedData;
  try {
    sd = parseSignedData(der, contents.length);
  } catch (e) {
    f.add('cms-malformed', `the CMS cannot be read: ${(e as Error).message}`);
    return;
  }
  if (sd.content !== undefined) {
    f.add('cms-not-detached', 'the CMS carries its own content');
    return;
  }
  if (sd.signers.length !== 1) {
    f.add('cms-signer-count', `the CMS has ${sd.signers.length} signers, not one`);
    return;
  }
  const [signer] = sd.signers;
  // Who the CMS says signed, shown even when what follows fails: a tampered file still names its signer.
  const named = findSignerCertificate(signer, [...sd.certificates, ...(options.certificates ?? [])]);
  if (named) report.signer = summary(named);
  report.digestAlgorithm = signer.digestAlgorithm;
  if (!KNOWN_HASHES.has(signer.digestAlgorithm)) {
    f.add('unsupported-digest-algorithm', `digest algorithm ${signer.digestAlgorithm} is not accepted`);
    return;
  }
  if (!signer.signedAttrs) {
    f.add('unsupported-cms', 'the CMS has no signed attributes');
    return;
  }
  const hash = signer.digestAlgorithm as HashName;
  const digest = byteRangeDigest(pdf, range, hash);
  const claimed = octetValue(signer, CMS_OID.messageDigest);
  if (!claimed || Buffer.compare(claimed, digest) !== 0) {
    report.integrity.digest = 'failed';
    f.add('digest-mismatch', 'the signed bytes do not match the messageDigest attribute');
    return;
  }
  report.integrity.digest = 'passed';
  const checked = verifySigner(sd, signer, { contentDigest: digest, certificates: options.certificates });
  if (!checked.ok || !checked.signerCertificate) {
    report.integrity.signature = 'failed';
    f.add('signature-invalid', `the CMS signature does not verify: ${checked.reason}`);
    return;
  }
  report.integrity.signature = 'passed';
  if (signer.attributes.has('1.2.840.113549.1.9.5')) f.warnings.add('pades-signing-time-attribute');
  if (!signer.attributes.has(CMS_OID.signingCertificateV2)) f.warnings.add('pades-no-signing-certificate-v2');

  const cert = parseCertificate(checked.signerCertificate);
  report.signer = summary(cert);
  const usage = keyUsageBits(cert);
  if (usage !== undefined && !(usage & (KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation)))
    f.add('certificate-key-usage', 'the signer certificate may not make signatures');

  const tokens = signer.unsignedAttributes.get(SIGNATURE_TIME_STAMP_OID);
  if (tokens?.length) {
    report.timestamp = await checkTimeStamp(tokens[0], signer.signature, sd, report.revision, context);
    if (report.timestamp.status === 'failed') f.add('timestamp-invalid', report.timestamp.detail);
    else if (report.timestamp.chain === 'not-checked') f.add('timestamp-chain-not-checked');
    else if (report.timestamp.chain === 'untrusted')
      f.add('timestamp-chain-untrusted', report.timestamp.detail);
  }
  const provenTime = report.timestamp?.status === 'passed' ? report.timestamp.genTime : undefined;
  report.signingTime = provenTime;
  const at = provenTime ?? options.time ?? new Date();
  report.validAtSigningTime = cert.notBefore <= at && at <= cert.notAfter;
  if (!report.validAtSigningTime) {
    if (provenTime)
      f.add('certificate-not-valid-at-signing-time', 'the time-stamp is outside the certificate validity');
    else if (at > cert.notAfter)
      f.add(
        'certificate-expired-no-poe',
        'the certificate has expired and no time-stamp proves an earlier signing time',
      );
    else f.add('certificate-not-yet-valid', 'the certificate is not yet valid');
  }
  const claimedAt = report.claimedSigningTime;
  if (claimedAt && (claimedAt < cert.notBefore || claimedAt > cert.notAfter))
    f.warnings.add('claimed-time-outside-certificate-validity');
  await checkChain(cert.der, withPool(context.sources, sd.certificates), at, f, report);
}

/** The sources with a CMS's own certificates first. */
function withPool(sources: ChainSources, certificates: Uint8Array[]): ChainSources {
  return { ...sources, pool: [...certificates, ...sources.pool] };
}

/** Chain to the trust anchors, when there are any; revocation follows in checkRevocations. */
async function checkChain(
  leaf: Uint8Array,
  sources: ChainSources,
  at: Date,
  f: Findings,
  report: SignatureReport,
): Promise<void> {
  if (!sources.anchors.length) f.add('chain-not-checked');
  else {
    const chain = await validateChain(leaf, sources, at);
    if (chain.status === 'trusted') report.chain = { status: 'trusted', path: chain.path };
    else {
      report.chain = { status: 'untrusted', detail: chain.reason };
      f.add('chain-untrusted', chain.reason);
    }
  }
}

/** Checks a signature time-stamp token: its own signature and that its imprint is over the signature value. */
async function checkTimeStamp(
  token: Uint8Array,
  signatureValue: Uint8Array,
  outer: ParsedSignedData,
  revision: number | undefined,
  context: Context,
): Promise<TimeStampReport> {
  let hash: string;
  try {
    hash = parseTimeStampToken(token).hashAlgorithm;
  } catch (e) {
    return {
      status: 'failed',
      chain: 'not-checked',
      detail: `the time-stamp token cannot be read: ${(e as Error).message}`,
    };
  }
  if (!KNOWN_HASHES.has(hash))
    return { status: 'failed', chain: 'not-checked', detail: `time-stamp hash ${hash} is not accepted` };
  const imprint = createHash(hash).update(signatureValue).digest();
  return timeStampReport(token, imprint, withPool(context.sources, outer.certificates), revision, context);
}

/**
 * A time-stamp token's report: its signature and imprint, then its unit's path as EN 319 102-1 asks —
 * valid at the validation time, or else at the time a later document time-stamp proves the token
 * existed (its proof of existence); the token must have been made inside its unit's validity.
 */
async function timeStampReport(
  token: Uint8Array,
  imprint: Uint8Array,
  sources: ChainSources,
  revision: number | undefined,
  context: Context,
): Promise<TimeStampReport> {
  const v = verifyTimeStampToken(token, { messageImprint: imprint, certificates: sources.pool });
  const tsa = v.signerCertificate ? summary(parseCertificate(v.signerCertificate)) : undefined;
  if (!v.ok || !v.signerCertificate || !v.genTime)
    return {
      status: 'failed',
      genTime: v.genTime,
      tsa,
      chain: 'not-checked',
      detail: `time-stamp: ${v.reason}`,
    };
  const passed = { status: 'passed', genTime: v.genTime, tsa } as const;
  if (!sources.anchors.length) return { ...passed, chain: 'not-checked' };
  const unit = parseCertificate(v.signerCertificate);
  if (v.genTime < unit.notBefore || v.genTime > unit.notAfter)
    return {
      ...passed,
      chain: 'untrusted',
      detail: "time-stamp: made outside its unit certificate's validity",
    };
  const all = withPool(sources, parseSignedData(token).certificates);
  const now = await validateChain(v.signerCertificate, all, context.now);
  if (now.status === 'trusted') return { ...passed, chain: 'trusted', path: now.path };
  const poe = proofOfExistence(context, revision);
  const proved = poe && (await validateChain(v.signerCertificate, all, poe));
  if (proved && proved.status === 'trusted') return { ...passed, chain: 'trusted', path: proved.path };
  const why = proved
    ? `time-stamp: ${now.reason}; at ${poe.toISOString()}, when a later document time-stamp proves it existed: ${proved.reason}`
    : `time-stamp: ${now.reason} (at the validation time; no later document time-stamp proves it existed before)`;
  return { ...passed, chain: 'untrusted', detail: why };
}

/** A document time-stamp (SubFilter ETSI.RFC3161): a token whose imprint is the digest of the byte ranges. */
async function checkDocumentTimeStamp(
  pdf: Uint8Array,
  range: ByteRange,
  contents: Uint8Array,
  f: Findings,
  report: SignatureReport,
  context: Context,
): Promise<void> {
  const der = cmsBytes(contents, f);
  if (!der) return;
  let info: ReturnType<typeof parseTimeStampToken>;
  try {
    info = parseTimeStampToken(der);
  } catch (e) {
    f.add('cms-malformed', `the time-stamp token cannot be read: ${(e as Error).message}`);
    return;
  }
  report.digestAlgorithm = info.hashAlgorithm;
  const token = parseSignedData(der);
  const named = token.signers.length === 1 && findSignerCertificate(token.signers[0], token.certificates);
  if (named) report.signer = summary(named);
  if (!KNOWN_HASHES.has(info.hashAlgorithm)) {
    f.add('unsupported-digest-algorithm', `time-stamp hash ${info.hashAlgorithm} is not accepted`);
    return;
  }
  const digest = byteRangeDigest(pdf, range, info.hashAlgorithm as HashName);
  if (Buffer.compare(digest, info.messageImprint) !== 0) {
    report.integrity.digest = 'failed';
    f.add('digest-mismatch', 'the signed bytes do not match the time-stamp imprint');
    return;
  }
  report.integrity.digest = 'passed';
  const ts = await timeStampReport(der, digest, context.sources, report.revision, context);
  report.timestamp = ts;
  report.signer = ts.tsa;
  if (ts.status === 'failed') {
    report.integrity.signature = 'failed';
    f.add('signature-invalid', ts.detail);
    return;
  }
  report.integrity.signature = 'passed';
  report.signingTime = ts.genTime;
  report.validAtSigningTime = true;
  if (ts.chain === 'not-checked') f.add('chain-not-checked');
  else if (ts.chain === 'untrusted') f.add('chain-untrusted', ts.detail);
  else report.chain = { status: 'trusted', path: ts.path };
}
