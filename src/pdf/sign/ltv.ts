import { type HashName, type ParsedSignedData, parseSignedData, verifySigner } from '../../pki/index.js';
import { PdfError } from '../errors.js';
import { definiteLengths, PdfDocument, type ReadOptions } from '../syntax/index.js';
import { addDss, type DssAddition, readAllDss, type ValidationData } from './dss.js';
import { SIGNATURE_TIME_STAMP_OID } from './pades.js';
import { gatherValidationData, issuerPath, type RevocationSource } from './revocation.js';
import { type ByteRange, byteRangeDigest, type DigestTimeStampCallback, timeStampPdf } from './sign.js';

// Long-term validation (ETSI EN 319 142-1 §6.3, levels B-LT and B-LTA): the certificates, OCSP
// responses and CRLs that validate each signature and its time-stamps go into the DSS; B-LTA then
// time-stamps the whole document, so that the stored evidence itself is proven to exist at that time.

/** The long-term levels. */
export type LtvLevel = 'B-LT' | 'B-LTA';

/** What extending a signed document needs. */
export interface ExtendOptions {
  level: LtvLevel;
  /** Where OCSP responses and CRLs come from. */
  source: RevocationSource;
  /** Certificates not embedded in the signatures: intermediates and the roots the paths end at. */
  certificates?: Uint8Array[];
  /** The document time-stamp for B-LTA. */
  stamp?: DigestTimeStampCallback;
  hash?: HashName;
  /** Bytes reserved for the document time-stamp token. */
  contentsSize?: number;
  read?: ReadOptions;
}

/** The extended file, and what validation data could not be had (the level is then incomplete). */
export interface ExtendResult {
  pdf: Uint8Array;
  problems: string[];
}

/** One CMS of the document whose signer's path needs validation data: a signature, or a time-stamp token. */
interface SignedObject {
  /** The /Contents bytes of the signature it belongs to, for the /VRI key. */
  contents: Uint8Array;
  signer: Uint8Array;
  pool: Uint8Array[];
}

function signerOf(sd: ParsedSignedData, digest?: Uint8Array): Uint8Array | undefined {
  if (sd.signers.length !== 1) return undefined;
  const v = verifySigner(sd, sd.signers[0], digest ? { contentDigest: digest } : {});
  return v.ok ? v.signerCertificate : undefined;
}

/** The signers of every signature, signature time-stamp and document time-stamp the document holds. */
function signedObjects(pdf: Uint8Array, read?: ReadOptions): SignedObject[] {
  const doc = PdfDocument.open(pdf, read);
  const out: SignedObject[] = [];
  for (const field of doc.signatureFields()) {
    const sig = field.signature;
    const contents = sig?.contents?.bytes;
    if (!sig || !contents) continue;
    let sd: ParsedSignedData;
    try {
      sd = parseSignedData(definiteLengths(contents).der);
    } catch {
      continue;
    }
    if (sig.subFilter === 'ETSI.RFC3161') {
      const signer = signerOf(sd);
      if (signer) out.push({ contents, signer, pool: sd.certificates });
      continue;
    }
    const range = sig.byteRange as ByteRange;
    const hash = sd.signers[0]?.digestAlgorithm as HashName;
    if (!Array.isArray(range) || !['sha256', 'sha384', 'sha512'].includes(hash)) continue;
    const signer = signerOf(sd, byteRangeDigest(pdf, range, hash));
    if (!signer) continue;
    out.push({ contents, signer, pool: sd.certificates });
    const token = sd.signers[0].unsignedAttributes.get(SIGNATURE_TIME_STAMP_OID)?.[0];
    if (!token) continue;
    try {
      const tsd = parseSignedData(token);
      const tsa = signerOf(tsd);
      if (tsa) out.push({ contents, signer: tsa, pool: [...tsd.certificates, ...sd.certificates] });
    } catch {
      // An unreadable token gets no validation data; the verifier will say why.
    }
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Appends a DSS with the validation data of every signature and time-stamp of the document, skipping
 * what the document's DSS already holds; with /VRI entries per signature.
 */
export async function addValidationData(
  pdf: Uint8Array,
  options: Pick<ExtendOptions, 'source' | 'certificates' | 'read'>,
): Promise<ExtendResult> {
  const objects = signedObjects(pdf, options.read);
  if (!objects.length)
    throw new PdfError('bad-input', 'the document has no signature to add validation data for');
  const held = readAllDss(pdf, options.read);
  const known = new Set([...held.ocsps, ...held.crls].map(hex));
  const problems: string[] = [];
  const addition: Required<Pick<DssAddition, 'certs' | 'ocsps' | 'crls' | 'vri'>> = {
    certs: [],
    ocsps: [],
    crls: [],
    vri: [],
  };
  for (const o of objects) {
    const path = issuerPath(o.signer, [...o.pool, ...held.certs, ...(options.certificates ?? [])]);
    const got = await gatherValidationData(path, options.source);
    problems.push(...got.problems);
    addition.certs.push(...got.data.certs);
    addition.ocsps.push(...got.data.ocsps);
    addition.crls.push(...got.data.crls);
    const vri = addition.vri.find((v) => hex(v.contents) === hex(o.contents));
    if (vri) for (const k of ['certs', 'ocsps', 'crls'] as const) vri[k]!.push(...got.data[k]);
    else addition.vri.push({ contents: o.contents, ...got.data });
  }
  // Data fetched now that the DSS holds already adds nothing; certificates dedupe inside addDss.
  addition.ocsps = addition.ocsps.filter((d) => !known.has(hex(d)));
  addition.crls = addition.crls.filter((d) => !known.has(hex(d)));
  return { pdf: addDss(pdf, addition, options.read), problems };
}

/** Whether the DSS holds status data for every certificate path of the document's signed objects. */
function missingData(pdf: Uint8Array, held: ValidationData, read?: ReadOptions): boolean {
  const known = new Set(held.certs.map(hex));
  return signedObjects(pdf, read).some((o) => !known.has(hex(o.signer)));
}

/**
 * Extends a signed document to B-LT (a DSS) or B-LTA (a DSS, then a document time-stamp; when that
 * time-stamp's TSA is one the DSS does not cover yet, a second DSS follows with its data).
 */
export async function extendPdf(pdf: Uint8Array, options: ExtendOptions): Promise<ExtendResult> {
  const lt = await addValidationData(pdf, options);
  if (options.level === 'B-LT') return lt;
  if (!options.stamp) throw new PdfError('bad-input', 'B-LTA needs a time-stamp service');
  const stamped = await timeStampPdf(lt.pdf, {
    stamp: options.stamp,
    hash: options.hash,
    contentsSize: options.contentsSize,
    read: options.read,
  });
  if (!missingData(stamped, readAllDss(stamped, options.read), options.read))
    return { pdf: stamped, problems: lt.problems };
  const more = await addValidationData(stamped, options);
  return { pdf: more.pdf, problems: [...lt.problems, ...more.problems] };
}
