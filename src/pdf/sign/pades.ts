import { createHash } from 'node:crypto';
import {
  buildSignedData,
  CMS_OID,
  type HashName,
  hashOf,
  parseSignedData,
  parseTimeStampToken,
  type SignatureAlgorithm,
  type SignedDataInput,
  signingCertificateV2,
  verifySigner,
} from '../../pki/index.js';
import { PdfError } from '../errors.js';

// The CMS of a PAdES baseline signature (ETSI EN 319 142-1 §6.3): detached SignedData over the byte
// ranges, signed attributes content-type, message-digest and signing-certificate-v2, and no signing-time
// (the claimed time is the signature dictionary's /M; a real one comes from the time-stamp).

/** id-aa-signatureTimeStampToken (RFC 3161 appendix A): the B-T time-stamp over the signature value. */
export const SIGNATURE_TIME_STAMP_OID = '1.2.840.113549.1.9.16.2.14';

/** What every PAdES CMS is built from. */
export interface PadesCmsInput {
  /** The digest of the signed byte ranges, under the algorithm's hash. */
  digest: Uint8Array;
  /** The signer's certificate (DER). */
  certificate: Uint8Array;
  /** Issuing CA certificates to embed, signer's issuer first. */
  chain?: Uint8Array[];
  algorithm: SignatureAlgorithm;
}

/** Gets an RFC 3161 TimeStampToken (DER) over the signature value: the B-T time-stamp. */
export type TimeStampCallback = (signatureValue: Uint8Array) => Promise<Uint8Array>;

function signedDataInput(
  input: PadesCmsInput,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
  timeStampToken?: Uint8Array,
): SignedDataInput {
  return {
    contentType: CMS_OID.data,
    contentDigest: input.digest,
    signedAttributes: [signingCertificateV2(input.certificate)],
    certificates: [input.certificate, ...(input.chain ?? [])],
    signer: { certificate: input.certificate, signatureAlgorithm: input.algorithm, sign },
    unsignedAttributes: timeStampToken
      ? [{ oid: SIGNATURE_TIME_STAMP_OID, values: [timeStampToken] }]
      : undefined,
  };
}

/**
 * The DER SET OF signed attributes that the key signs: hand it to a USB token or a remote HSM, which
 * hashes it under the algorithm's hash and signs. The attributes carry no time, so they are the same
 * every time they are computed for the same digest and certificate.
 */
export async function padesSignedAttributes(input: PadesCmsInput): Promise<Uint8Array> {
  let attributes: Uint8Array | undefined;
  await buildSignedData(
    signedDataInput(input, async (data) => {
      attributes = data;
      return new Uint8Array(1);
    }),
  );
  return attributes!;
}

/** Checks that a time-stamp token's imprint is the hash of the signature value. */
function checkTimeStampToken(token: Uint8Array, signatureValue: Uint8Array): void {
  let info: ReturnType<typeof parseTimeStampToken>;
  try {
    info = parseTimeStampToken(token);
  } catch (e) {
    throw new PdfError('bad-timestamp', `the time-stamp token cannot be read: ${(e as Error).message}`);
  }
  const hash = info.hashAlgorithm as HashName;
  if (!['sha256', 'sha384', 'sha512'].includes(hash))
    throw new PdfError('bad-timestamp', `time-stamp hash ${info.hashAlgorithm} is not accepted`);
  const expected = createHash(hash).update(signatureValue).digest();
  if (!expected.equals(info.messageImprint))
    throw new PdfError('bad-timestamp', 'the time-stamp token is not over this signature value');
}

/**
 * Assembles the CMS from a signature value made elsewhere (the second step of deferred signing), with
 * the B-T time-stamp token when given. The value is checked against the certificate first.
 */
export async function padesCms(
  input: PadesCmsInput & { signatureValue: Uint8Array; timeStampToken?: Uint8Array },
): Promise<Uint8Array> {
  if (input.timeStampToken) checkTimeStampToken(input.timeStampToken, input.signatureValue);
  const cms = await buildSignedData(
    signedDataInput(input, async () => input.signatureValue, input.timeStampToken),
  );
  const sd = parseSignedData(cms);
  const checked = verifySigner(sd, sd.signers[0], { contentDigest: input.digest });
  if (!checked.ok)
    throw new PdfError('bad-signature-value', `the signature value does not verify: ${checked.reason}`);
  return cms;
}

/** Signs the attributes with sign, time-stamps the value when asked (B-T), and assembles the CMS. */
export async function signPadesCms(
  input: PadesCmsInput & {
    sign: (data: Uint8Array) => Promise<Uint8Array>;
    timestamp?: TimeStampCallback;
  },
): Promise<Uint8Array> {
  if (input.digest.length !== createHash(hashOf(input.algorithm)).digest().length)
    throw new PdfError('bad-input', `the digest is not a ${hashOf(input.algorithm)} digest`);
  const signatureValue = await input.sign(await padesSignedAttributes(input));
  const timeStampToken = input.timestamp ? await input.timestamp(signatureValue) : undefined;
  return padesCms({ ...input, signatureValue, timeStampToken });
}
