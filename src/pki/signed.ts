import { bytesOf, children, contentOf, decodeDer, expectTag, readBitString, TAG, type Tlv } from './der.js';
import { PkiError } from './errors.js';
import { type Extension, readExtensions } from './extensions.js';

// RFC 5280's SIGNED{} wrapper, shared by Certificate and CertificateList: the to-be-signed fields, the
// outer signature algorithm, which must be the one the TBS names inside, and the signature value.

/** A SIGNED{} structure read apart; the caller reads `fields`, then calls `checkAlgorithm`. */
export interface Signed {
  tbsT: Tlv;
  /** The TBS SEQUENCE's fields, for the caller to read in order. */
  fields: Tlv[];
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
  /** Fails unless the TBS's own signature AlgorithmIdentifier (at `inner`) is the outer one. */
  checkAlgorithm(inner: Tlv | undefined): void;
}

/** Reads a SIGNED{} structure: `outer` and `tbs` name it and its TBS in errors. */
export function readSigned(der: Uint8Array, maxBytes: number, outer: string, tbs: string): Signed {
  const [tbsT, algT, sigT, extra] = children(der, expectTag(decodeDer(der, maxBytes), TAG.sequence, outer));
  if (extra) throw new PkiError('malformed-der', `trailing fields in ${outer}`);
  const fields = children(der, expectTag(tbsT, TAG.sequence, tbs));
  const signatureAlgorithm = bytesOf(der, expectTag(algT, TAG.sequence, 'signatureAlgorithm'));
  const sig = readBitString(contentOf(der, expectTag(sigT, TAG.bitString, 'signature')));
  if (sig.unusedBits !== 0) throw new PkiError('malformed-der', 'signature has a partial byte');
  return {
    tbsT,
    fields,
    signatureAlgorithm,
    signature: sig.bytes,
    checkAlgorithm(inner) {
      const innerAlg = bytesOf(der, expectTag(inner, TAG.sequence, 'signature'));
      if (Buffer.compare(signatureAlgorithm, innerAlg) !== 0)
        throw new PkiError('malformed-der', `signature algorithms inside and outside ${tbs} differ`);
    },
  };
}

/** Extensions wrapped in an explicit tag ([3] in a certificate, [0] in a CRL), when `t` is that tag. */
export function readExplicitExtensions(der: Uint8Array, t: Tlv, what: string): Extension[] {
  const [exts, more] = children(der, t);
  if (more) throw new PkiError('malformed-der', `trailing fields in ${what}`);
  return readExtensions(der, exts);
}
