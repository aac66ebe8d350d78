import type { PathCertificate } from './certificate.js';
import { sameName } from './names.js';

// Path building (RFC 4158's depth-first search, simplified): from the target towards a trust anchor,
// trying every certificate whose subject is the name wanted, best candidates first, and backtracking
// when a branch dead-ends. Loops are cut by never repeating a certificate or a (subject, key) pair.

/** The certificates a search may use; `intermediates` grows with what AIA fetches bring. */
export interface CertificatePool {
  anchors: PathCertificate[];
  intermediates: PathCertificate[];
}

/** How the search checks an edge and reaches beyond the pool. */
export interface BuildOptions {
  maxIntermediates: number;
  /** Whether `issuer`'s key verifies `child`: false prunes the branch, undefined defers the check. */
  edge(child: PathCertificate, issuer: PathCertificate): boolean | undefined;
  /** Fetches and parses the certificates at an AIA caIssuers URL (empty when there are none). */
  fetch?(url: string): Promise<PathCertificate[]>;
}

// Many certificates with one name (or a hostile pool) could make the search exponential: it stops after
// this many branches.
const MAX_STEPS = 2000;

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  !!a && !!b && Buffer.compare(a, b) === 0;

/** 0 when the child's AKI names the candidate's SKI, 1 without key identifiers, 2 when they differ. */
function keyIdRank(child: PathCertificate, candidate: PathCertificate): number {
  const aki = child.cert.authorityKeyId;
  const ski = candidate.cert.subjectKeyId;
  if (!aki || !ski) return 1;
  return same(aki, ski) ? 0 : 2;
}

function ordered(child: PathCertificate, candidates: PathCertificate[]): PathCertificate[] {
  return candidates
    .map((c, i) => ({ c, rank: keyIdRank(child, c) * 1000 + i }))
    .sort((a, b) => a.rank - b.rank)
    .map((x) => x.c);
}

function repeats(path: PathCertificate[], c: PathCertificate): boolean {
  return path.some(
    (p) =>
      p.fingerprint === c.fingerprint ||
      (sameName(p.subject, c.subject) && same(p.cert.publicKey, c.cert.publicKey)),
  );
}

/** Yields candidate paths, target first and a trust anchor last, best first. */
export async function* candidatePaths(
  target: PathCertificate,
  pool: CertificatePool,
  o: BuildOptions,
): AsyncGenerator<PathCertificate[]> {
  if (pool.anchors.some((a) => a.fingerprint === target.fingerprint)) {
    yield [target];
    return;
  }
  const fetched = new Set<string>();
  let budget = MAX_STEPS;

  async function* extend(path: PathCertificate[]): AsyncGenerator<PathCertificate[]> {
    if (--budget < 0) return;
    const c = path[path.length - 1];
    for (const a of ordered(
      c,
      pool.anchors.filter((x) => sameName(x.subject, c.issuer)),
    ))
      if (o.edge(c, a) !== false) yield [...path, a];
    if (path.length - 1 >= o.maxIntermediates) return;
    let issuers = pool.intermediates.filter((x) => sameName(x.subject, c.issuer) && !repeats(path, x));
    if (issuers.length === 0 && o.fetch) {
      for (const url of c.caIssuers) {
        if (fetched.has(url)) continue;
        fetched.add(url);
        for (const got of await o.fetch(url))
          if (!pool.intermediates.some((x) => x.fingerprint === got.fingerprint))
            pool.intermediates.push(got);
      }
      issuers = pool.intermediates.filter((x) => sameName(x.subject, c.issuer) && !repeats(path, x));
    }
    for (const x of ordered(c, issuers)) if (o.edge(c, x) !== false) yield* extend([...path, x]);
  }

  yield* extend([target]);
}
