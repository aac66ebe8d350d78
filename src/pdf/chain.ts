import { OID, type ParsedCertificate, parseCertificate, verifySignature } from '../pki/index.js';

// A path from a signer's certificate to one of the caller's trust anchors, over the certificates the
// signature embeds: names chain, signatures verify, issuers are CAs allowed to sign certificates, and every
// certificate is valid at the time given. Revocation is the caller's next step.

/** The path found, leaf first and anchor last, or why there is none. */
export type ChainResult = { status: 'trusted'; path: Uint8Array[] } | { status: 'untrusted'; reason: string };

const MAX_PATH = 8;

function parsed(der: Uint8Array): ParsedCertificate | undefined {
  try {
    return parseCertificate(der);
  } catch {
    return undefined;
  }
}

/** The keyUsage bits as a number (bit 0, digitalSignature, is 0x80 of the first byte), or undefined without the extension. */
export function keyUsageBits(cert: ParsedCertificate): number | undefined {
  const ku = cert.extensions.find((e) => e.oid === OID.keyUsage);
  if (!ku) return undefined;
  const v = ku.value;
  // BIT STRING: tag, length, unused bits, then one or two bytes.
  if (v[0] !== 0x03 || v[1] < 2 || v[1] > 3 || v.length !== 2 + v[1]) return 0;
  return (v[3] << 8) | (v[1] === 3 ? v[4] : 0);
}

/** keyUsage bits as keyUsageBits returns them. */
export const KEY_USAGE = { digitalSignature: 0x8000, nonRepudiation: 0x4000, keyCertSign: 0x0400 } as const;

const within = (c: ParsedCertificate, at: Date) => c.notBefore <= at && at <= c.notAfter;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

function issues(issuer: ParsedCertificate, child: ParsedCertificate): boolean {
  if (!same(issuer.subjectDer, child.issuerDer)) return false;
  try {
    return verifySignature(child.signatureAlgorithm, issuer.publicKey, child.tbs, child.signature);
  } catch {
    return false;
  }
}

/** Builds a path from leaf to an anchor through pool, checking validity at `at`. */
export function buildChain(
  leaf: Uint8Array,
  pool: Uint8Array[],
  anchors: Uint8Array[],
  at: Date,
): ChainResult {
  const start = parsed(leaf);
  if (!start) return { status: 'untrusted', reason: 'the signer certificate cannot be read' };
  const anchorCerts = anchors.map(parsed).filter((c): c is ParsedCertificate => !!c);
  const poolCerts = pool.map(parsed).filter((c): c is ParsedCertificate => !!c);
  const path: ParsedCertificate[] = [start];
  let current = start;
  for (let depth = 0; depth < MAX_PATH; depth++) {
    if (anchorCerts.some((a) => same(a.der, current.der)))
      return { status: 'trusted', path: path.map((c) => c.der) };
    if (!within(current, at))
      return {
        status: 'untrusted',
        reason: `${depth ? 'a CA' : 'the'} certificate is not valid at the validation time`,
      };
    const anchor = anchorCerts.find((a) => issues(a, current));
    if (anchor) {
      if (!within(anchor, at))
        return { status: 'untrusted', reason: 'the trust anchor is not valid at the validation time' };
      return { status: 'trusted', path: [...path, anchor].map((c) => c.der) };
    }
    const next = poolCerts.find(
      (c) =>
        !path.includes(c) &&
        c.isCa &&
        ((keyUsageBits(c) ?? KEY_USAGE.keyCertSign) & KEY_USAGE.keyCertSign) !== 0 &&
        issues(c, current),
    );
    if (!next) return { status: 'untrusted', reason: 'no path to a trust anchor' };
    path.push(next);
    current = next;
  }
  return { status: 'untrusted', reason: `no path to a trust anchor within ${MAX_PATH} certificates` };
}
