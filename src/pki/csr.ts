import { verifySignature, verifySignatureAsync } from './algorithms.js';
import {
  bytesOf,
  children,
  contentOf,
  decodeDer,
  expectTag,
  readBitString,
  readOid,
  readSmallInt,
  TAG,
} from './der.js';
import { PkiError, withCode } from './errors.js';
import { readExtensions, readSubjectAltName } from './extensions.js';
import { type DistinguishedName, readName } from './name.js';
import { OID } from './oids.js';
import { fromPem } from './pem.js';

/** A PKCS#10 request whose self-signature has been verified. */
export interface CertificationRequest {
  der: Uint8Array;
  subject: DistinguishedName;
  /** SubjectPublicKeyInfo DER. */
  publicKey: Uint8Array;
  signatureAlgorithm: Uint8Array;
  /** rfc822Name entries of a requested subjectAltName, then subject E= values, without duplicates. */
  emails: string[];
  /** dNSName entries of a requested subjectAltName. */
  dnsNames: string[];
}

const DEFAULT_MAX_BYTES = 64 * 1024;

function malformed(message: string): never {
  throw new PkiError('malformed-csr', message);
}

/** Turns PEM text or bytes, or DER bytes, into the request DER, bounded by maxBytes. */
function csrDer(input: Uint8Array | string, maxBytes: number): Uint8Array {
  // PEM costs about 4/3 of the DER plus line breaks; refuse anything bigger before decoding it.
  const pemLimit = Math.ceil((maxBytes * 4) / 3) * 1.05 + 1024;
  if (typeof input !== 'string' && input.length > 0 && input[0] === TAG.sequence) {
    if (input.length > maxBytes)
      throw new PkiError('csr-too-large', `request of ${input.length} bytes exceeds ${maxBytes}`);
    return input;
  }
  if (input.length > pemLimit)
    throw new PkiError('csr-too-large', `request of ${input.length} bytes exceeds ${maxBytes}`);
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  if (!text.includes('-----BEGIN')) malformed('not a PEM or DER certification request');
  let blocks: Uint8Array[];
  try {
    blocks = fromPem(text, 'CERTIFICATE REQUEST');
  } catch {
    try {
      blocks = fromPem(text, 'NEW CERTIFICATE REQUEST');
    } catch {
      return malformed('no CERTIFICATE REQUEST PEM block');
    }
  }
  if (blocks.length !== 1) malformed('expected one certification request');
  if (blocks[0].length > maxBytes)
    throw new PkiError('csr-too-large', `request of ${blocks[0].length} bytes exceeds ${maxBytes}`);
  return blocks[0];
}

/** Parses a PKCS#10 request (PEM or DER, 64 KiB by default) and verifies its proof of possession. */
export function parseCsr(input: Uint8Array | string, maxBytes = DEFAULT_MAX_BYTES): CertificationRequest {
  const { csr, info, signature } = readCsr(input, maxBytes);
  if (!verifySignature(csr.signatureAlgorithm, csr.publicKey, info, signature)) noPossession();
  return csr;
}

/** parseCsr with the signature checked on libuv's thread pool: what the CA uses under load. */
export async function parseCsrAsync(
  input: Uint8Array | string,
  maxBytes = DEFAULT_MAX_BYTES,
): Promise<CertificationRequest> {
  const { csr, info, signature } = readCsr(input, maxBytes);
  if (!(await verifySignatureAsync(csr.signatureAlgorithm, csr.publicKey, info, signature))) noPossession();
  return csr;
}

function noPossession(): never {
  throw new PkiError(
    'csr-signature-invalid',
    'the request signature does not verify (no proof of possession)',
  );
}

function readCsr(input: Uint8Array | string, maxBytes: number) {
  const der = csrDer(input, maxBytes);
  return withCode('malformed-csr', 'certification request', () => {
    const [infoT, algT, sigT, extra] = children(
      der,
      expectTag(decodeDer(der, maxBytes), TAG.sequence, 'CertificationRequest'),
    );
    if (extra) malformed('trailing fields in CertificationRequest');
    const [versionT, subjectT, spkiT, attrsT, more] = children(
      der,
      expectTag(infoT, TAG.sequence, 'CertificationRequestInfo'),
    );
    if (more) malformed('trailing fields in CertificationRequestInfo');
    if (readSmallInt(contentOf(der, expectTag(versionT, TAG.integer, 'version'))) !== 0)
      malformed('unknown version');
    const subject = readName(der, subjectT);
    const publicKey = bytesOf(der, expectTag(spkiT, TAG.sequence, 'subjectPKInfo'));
    const emails: string[] = [];
    const dnsNames: string[] = [];
    // Some encoders omit the (mandatory) empty attributes set; accept that.
    if (attrsT) {
      for (const attr of children(der, expectTag(attrsT, 0xa0, 'attributes'))) {
        const [typeT, valuesT] = children(der, expectTag(attr, TAG.sequence, 'Attribute'));
        if (readOid(contentOf(der, expectTag(typeT, TAG.oid, 'attribute type'))) !== OID.extensionRequest)
          continue;
        const [exts, others] = children(der, expectTag(valuesT, TAG.set, 'attribute values'));
        if (!exts || others) malformed('extensionRequest must hold one value');
        const san = readExtensions(der, exts).find((e) => e.oid === OID.subjectAltName);
        for (const n of san ? readSubjectAltName(san.value) : []) {
          if (n.type === 'email') emails.push(n.value);
          if (n.type === 'dns') dnsNames.push(n.value);
        }
      }
    }
    for (const a of subject) if (a.type === 'E') emails.push(a.value);
    const signatureAlgorithm = bytesOf(der, expectTag(algT, TAG.sequence, 'signatureAlgorithm'));
    const sig = readBitString(contentOf(der, expectTag(sigT, TAG.bitString, 'signature')));
    if (sig.unusedBits !== 0) malformed('signature has a partial byte');
    return {
      info: bytesOf(der, infoT),
      signature: sig.bytes,
      csr: { der, subject, publicKey, signatureAlgorithm, emails: [...new Set(emails)], dnsNames },
    };
  });
}
