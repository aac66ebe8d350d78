import { readSpki, verifySignature } from '../algorithms.js';
import { children, contentOf, decodeDer, expectTag, readOid, TAG } from '../der.js';
import { PkiError } from '../errors.js';
import { OID } from '../oids.js';
import { type CertificatePool, candidatePaths } from './build.js';
import { KU, type PathCertificate, pathCertificate } from './certificate.js';
import { type CrlContext, type CrlInfo, crlInfo, crlStatus } from './crl-check.js';
import { sameName } from './names.js';
import { type ProcessedPath, processPath } from './process.js';
import { PathFailure, type PathValidationInput, type PathValidationResult } from './result.js';

// validatePath: builds candidate paths, runs RFC 5280 §6.1 over each and, when asked, §6.3 for every
// certificate of it; the first path that passes wins, else the first failure explains the outcome.

const SHA1_SIGNATURES = new Set<string>([OID.sha1WithRsa, OID.ecdsaWithSha1, OID.dsaWithSha1]);
const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
// Bounds: candidate paths tried per validation, and nesting of CRL signer validations.
const MAX_CANDIDATES = 64;
const MAX_SIGNER_DEPTH = 4;

/** The AlgorithmIdentifier's OID, for telling SHA-1 apart from other unsupported algorithms. */
function algorithmOid(algId: Uint8Array): string | undefined {
  try {
    const [id] = children(algId, decodeDer(algId, algId.length));
    return readOid(contentOf(algId, expectTag(id, TAG.oid, 'algorithm')));
  } catch {
    return undefined;
  }
}

class Validation {
  private readonly signatures = new Map<string, boolean>();
  private readonly edgeFailures: PathFailure[] = [];

  constructor(
    private readonly input: PathValidationInput,
    private readonly pool: CertificatePool,
    private readonly crls: CrlInfo[],
    private readonly nextId: () => number,
  ) {}

  /** Whether `spki` verifies `signed`'s signature; PathFailure for an algorithm that is refused. */
  private verifySigned(
    key: string,
    signed: { signatureAlgorithm: Uint8Array; tbs: Uint8Array; signature: Uint8Array },
    spki: Uint8Array,
  ): boolean {
    const cacheKey = `${key}|${Buffer.from(spki).toString('base64')}`;
    const cached = this.signatures.get(cacheKey);
    if (cached !== undefined) return cached;
    let ok: boolean;
    try {
      ok = verifySignature(signed.signatureAlgorithm, spki, signed.tbs, signed.signature, {
        allowSha1: this.input.allowSha1,
      });
    } catch (e) {
      if (!(e instanceof PkiError)) throw e;
      const oid = algorithmOid(signed.signatureAlgorithm);
      if (oid && SHA1_SIGNATURES.has(oid))
        throw new PathFailure('weak-algorithm', 'a signature uses SHA-1, which is not accepted');
      throw new PathFailure('bad-signature', `a signature cannot be checked: ${e.message}`);
    }
    this.signatures.set(cacheKey, ok);
    return ok;
  }

  private verifyCert = (c: PathCertificate, spki: Uint8Array) => this.verifySigned(`c${c.id}`, c.cert, spki);

  private verifyCrl(crl: CrlInfo, spki: Uint8Array): boolean {
    try {
      return this.verifySigned(`l${this.crls.indexOf(crl)}`, crl.crl, spki);
    } catch {
      return false;
    }
  }

  private edge(child: PathCertificate, issuer: PathCertificate): boolean | undefined {
    const spki = readSpki(issuer.cert.publicKey);
    // A DSA key without parameters inherits them from above: checked once the path is known.
    if (spki.algorithm === OID.dsa && !spki.parameters) return undefined;
    try {
      const ok = this.verifyCert(child, issuer.cert.publicKey);
      if (!ok)
        this.edgeFailures.push(
          new PathFailure('bad-signature', 'the signature on a certificate of the path does not verify'),
        );
      return ok;
    } catch (e) {
      if (!(e instanceof PathFailure)) throw e;
      this.edgeFailures.push(e);
      return false;
    }
  }

  private async fetch(url: string): Promise<PathCertificate[]> {
    if (!this.input.fetchIssuers) return [];
    let ders: Uint8Array[];
    try {
      ders = await this.input.fetchIssuers(url);
    } catch {
      return [];
    }
    return ders.map((d) => pathCertificate(d, this.nextId())).filter((c): c is PathCertificate => !!c);
  }

  /** Validates `target` against anchors (all, or only `anchor`); `busy` holds certificates being validated above. */
  async validate(
    target: PathCertificate,
    depth: number,
    busy: Set<string>,
    anchor?: PathCertificate,
  ): Promise<{
    result: PathValidationResult;
    keys?: Uint8Array[];
  }> {
    const pool: CertificatePool = anchor
      ? { anchors: [anchor], intermediates: this.pool.intermediates }
      : this.pool;
    const requiredKeyUsage = (depth === 0 ? (this.input.requiredKeyUsage ?? []) : []).reduce(
      (bits, u) => bits | (1 << KEY_USAGE_BITS[u]),
      0,
    );
    let first: { failure: PathFailure; path: PathCertificate[] } | undefined;
    let tried = 0;
    const paths = candidatePaths(target, pool, {
      maxIntermediates: this.input.maxIntermediates ?? 10,
      edge: (c, i) => this.edge(c, i),
      fetch: this.input.fetchIssuers ? (url) => this.fetch(url) : undefined,
    });
    for await (const leafFirst of paths) {
      if (++tried > MAX_CANDIDATES) break;
      const chain = [...leafFirst].reverse();
      try {
        // The initial policy inputs are the relying party's for the target, not for CRL signers' paths.
        const own = depth === 0;
        const processed = processPath(chain, {
          at: this.input.at,
          initialPolicies: (own && this.input.initialPolicies) || [],
          explicitPolicy: own && !!this.input.explicitPolicy,
          inhibitPolicyMapping: own && !!this.input.inhibitPolicyMapping,
          inhibitAnyPolicy: own && !!this.input.inhibitAnyPolicy,
          requiredKeyUsage,
          verify: this.verifyCert,
        });
        if (this.input.checkRevocation) await this.checkRevocation(chain, processed, depth, busy);
        return {
          result: {
            status: 'valid',
            code: 'ok',
            reason:
              chain.length === 1
                ? 'the certificate is a trust anchor'
                : `a valid path of ${chain.length} certificates`,
            path: leafFirst.map((c) => c.cert.der),
            policies: processed.policies,
          },
          keys: processed.keys,
        };
      } catch (e) {
        if (!(e instanceof PathFailure)) throw e;
        first ??= { failure: e, path: leafFirst };
      }
    }
    const f =
      first?.failure ??
      this.edgeFailures[0] ??
      new PathFailure('no-path', 'no path from the certificate to a trust anchor can be built');
    return {
      result: {
        status: f.status,
        code: f.code,
        reason: f.message,
        path: (first?.path ?? [target]).map((c) => c.cert.der),
      },
    };
  }

  /** §6.1.3 (a)(3) for every certificate of a processed chain (anchor first). */
  private async checkRevocation(
    chain: PathCertificate[],
    processed: ProcessedPath,
    depth: number,
    busy: Set<string>,
  ) {
    const inner = new Set(busy);
    for (const c of chain) inner.add(c.fingerprint);
    for (let i = 1; i < chain.length; i++) {
      const cert = chain[i];
      const ctx: CrlContext = {
        at: this.input.at,
        crls: this.crls,
        verifies: (crl, key) => this.verifyCrl(crl, key),
        signerKey: (crl) => this.signerKey(crl, chain, processed, i, depth, inner),
      };
      const status = await crlStatus(cert, ctx);
      const who = i === chain.length - 1 ? 'the certificate' : `CA certificate ${chain.length - 1 - i}`;
      if (status.status === 'revoked' && status.onHold)
        throw new PathFailure('on-hold', `${who} is on hold (suspended): ${status.reason}`);
      if (status.status === 'revoked')
        throw new PathFailure('revoked', `${who} is revoked: ${status.reason}`);
      if (status.status === 'unknown')
        throw new PathFailure(
          'revocation-unknown',
          `the revocation status of ${who} cannot be determined: ${status.reason}`,
          'indeterminate',
        );
    }
  }

  /** §6.3.3 (f): a key that signed `crl`, whose certificate may sign CRLs and chains to the same anchor. */
  private async signerKey(
    crl: CrlInfo,
    chain: PathCertificate[],
    processed: ProcessedPath,
    i: number,
    depth: number,
    busy: Set<string>,
  ): Promise<{ key: Uint8Array } | { problem: string }> {
    const mayCrlSign = (c: PathCertificate) => c.keyUsage === undefined || !!(c.keyUsage & (1 << KU.cRLSign));
    let problem = 'no certificate of the CRL issuer verifies the CRL signature';
    // Certificates of this path from the one checked up: already validated, and above it already checked
    // for revocation (the issuer, an older key of the issuer, or a CRL issuer covering its own certificate).
    for (let k = i; k >= 0; k--) {
      const c = chain[k];
      if (!sameName(c.subject, crl.issuer) || !this.verifyCrl(crl, processed.keys[k])) continue;
      if (!mayCrlSign(c)) {
        problem = 'the CRL issuer may not sign CRLs (keyUsage lacks cRLSign)';
        continue;
      }
      return { key: processed.keys[k] };
    }
    if (depth >= MAX_SIGNER_DEPTH) return { problem: 'CRL issuers nest too deeply' };
    const candidates = [...this.pool.anchors, ...this.pool.intermediates].filter(
      (c) => sameName(c.subject, crl.issuer) && !chain.slice(0, i + 1).includes(c),
    );
    for (const c of candidates) {
      if (!mayCrlSign(c)) {
        problem = 'the CRL issuer may not sign CRLs (keyUsage lacks cRLSign)';
        continue;
      }
      // A DSA key without parameters can be tried only once its path says what it inherits.
      const spki = readSpki(c.cert.publicKey);
      const inherits = spki.algorithm === OID.dsa && !spki.parameters;
      if ((!inherits && !this.verifyCrl(crl, c.cert.publicKey)) || busy.has(c.fingerprint)) continue;
      const { result, keys } = await this.validate(c, depth + 1, new Set([...busy, c.fingerprint]), chain[0]);
      const key = keys?.at(-1);
      if (result.status === 'valid' && key && this.verifyCrl(crl, key)) return { key };
      if (result.status !== 'valid') problem = `the CRL issuer's certificate is not valid: ${result.reason}`;
    }
    return { problem };
  }
}

/** Validates a certificate per RFC 5280 §6: builds paths to the anchors, checks each, and says why not. */
export async function validatePath(input: PathValidationInput): Promise<PathValidationResult> {
  let id = 0;
  const nextId = () => id++;
  const parse = (der: Uint8Array) => pathCertificate(der, nextId());
  const target = parse(input.target);
  if (!target)
    return {
      status: 'invalid',
      code: 'malformed-certificate',
      reason: 'the certificate cannot be read',
      path: [input.target],
    };
  const present = (c: PathCertificate | undefined): c is PathCertificate => !!c;
  const pool: CertificatePool = {
    anchors: input.anchors.map(parse).filter(present),
    intermediates: input.intermediates.map(parse).filter(present),
  };
  const crls = (input.crls ?? []).map(crlInfo).filter((c): c is CrlInfo => !!c);
  const validation = new Validation(input, pool, crls, nextId);
  const { result } = await validation.validate(target, 0, new Set([target.fingerprint]));
  return result;
}
