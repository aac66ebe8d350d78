import { OID, type ParsedCertificate, validatePath } from '../../pki/index.js';

// The path from a signer's (or a time-stamping unit's) certificate to one of the caller's trust
// anchors, validated as RFC 5280 §6 says (pki/path: backtracking over every candidate issuer, name
// chaining, validity at the time given, basicConstraints, keyUsage, name constraints, policies, unknown
// critical extensions). Revocation is the caller's next step: it is richer than CRLs alone.

/** The path found, leaf first and anchor last, or why there is none. */
export type ChainResult = { status: 'trusted'; path: Uint8Array[] } | { status: 'untrusted'; reason: string };

/** Where a path may come from: the certificates at hand, and (online) a fetcher for AIA caIssuers URLs. */
export interface ChainSources {
  /** Untrusted certificates: the CMS's, every revision's DSS /Certs, the caller's. */
  pool: Uint8Array[];
  anchors: Uint8Array[];
  fetchIssuers?: (url: string) => Promise<Uint8Array[]>;
}

/** Validates a path from leaf to an anchor at time `at`. */
export async function validateChain(leaf: Uint8Array, sources: ChainSources, at: Date): Promise<ChainResult> {
  const r = await validatePath({
    target: leaf,
    anchors: sources.anchors,
    intermediates: sources.pool,
    at,
    fetchIssuers: sources.fetchIssuers,
  });
  return r.status === 'valid'
    ? { status: 'trusted', path: r.path }
    : { status: 'untrusted', reason: r.reason };
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
