import { readSpki } from '../algorithms.js';
import { bitString, oid, sequence } from '../der.js';
import { formatName } from '../name.js';
import { OID } from '../oids.js';
import { KU, type PathCertificate } from './certificate.js';
import { NameConstraints } from './name-constraints.js';
import { PolicyTree } from './policy-tree.js';
import { PathFailure } from './result.js';

// RFC 5280 §6.1.2–§6.1.5 over one candidate path, anchor first. Revocation (§6.1.3 (a)(3)) is the
// caller's next step, with the keys this returns.

/** The initial inputs of §6.1.1 that shape processing, and the signature check to use. */
export interface ProcessOptions {
  at: Date;
  initialPolicies: string[];
  explicitPolicy: boolean;
  inhibitPolicyMapping: boolean;
  inhibitAnyPolicy: boolean;
  /** keyUsage bits (1 << n) the target needs when it has keyUsage. */
  requiredKeyUsage: number;
  /** Checks `cert`'s signature with a SubjectPublicKeyInfo; throws PathFailure for what it cannot check. */
  verify(cert: PathCertificate, spki: Uint8Array): boolean;
}

/** What a processed path yields: its policies and each certificate's key with inherited DSA parameters. */
export interface ProcessedPath {
  policies?: string[];
  /** keys[i] is chain[i]'s SubjectPublicKeyInfo as used to verify chain[i + 1]. */
  keys: Uint8Array[];
}

/** A key whose DSA parameters are inherited (§6.1.4 (e)): the SPKI with `parameters` filled in. */
export function keyWithParameters(spki: Uint8Array, inherited: Uint8Array | undefined): Uint8Array {
  const parts = readSpki(spki);
  if (parts.parameters || !inherited || parts.algorithm !== OID.dsa) return spki;
  return sequence(sequence(oid(OID.dsa), inherited), bitString(parts.key));
}

function label(chain: PathCertificate[], i: number): string {
  const n = chain.length - 1;
  const who = i === n ? 'the certificate' : i === 0 ? 'the trust anchor' : `CA certificate ${n - i}`;
  return `${who} (${formatName(chain[i].cert.subject)})`;
}

/** Runs §6.1 over `chain` (anchor first, target last); throws PathFailure at the first violation. */
export function processPath(chain: PathCertificate[], o: ProcessOptions): ProcessedPath {
  const n = chain.length - 1;
  const anchor = chain[0];
  if (!(anchor.cert.notBefore <= o.at && o.at <= anchor.cert.notAfter))
    throw new PathFailure('expired', `${label(chain, 0)} is not valid at the validation time`);
  const tree = new PolicyTree();
  const constraints = new NameConstraints();
  let explicitPolicy = o.explicitPolicy ? 0 : n + 1;
  let inhibitAny = o.inhibitAnyPolicy ? 0 : n + 1;
  let policyMapping = o.inhibitPolicyMapping ? 0 : n + 1;
  let maxPathLength = n;
  let workingKey = anchor.cert.publicKey;
  let workingParams = readSpki(workingKey).parameters;
  let workingAlgorithm = readSpki(workingKey).algorithm;
  let workingIssuer = anchor.subject;
  const keys: Uint8Array[] = [workingKey];

  for (let i = 1; i <= n; i++) {
    const c = chain[i];
    const who = label(chain, i);
    if (c.badExtension) throw new PathFailure('bad-extension', `${who}: ${c.badExtension}`);
    // (a) signature, validity, name chaining.
    if (!o.verify(c, workingKey))
      throw new PathFailure('bad-signature', `the signature on ${who} does not verify`);
    if (o.at < c.cert.notBefore)
      throw new PathFailure('not-yet-valid', `${who} is not yet valid at the validation time`);
    if (o.at > c.cert.notAfter) throw new PathFailure('expired', `${who} has expired at the validation time`);
    if (
      !(
        c.issuer.rdns.length === workingIssuer.rdns.length &&
        c.issuer.rdns.every((r, k) => r === workingIssuer.rdns[k])
      )
    )
      throw new PathFailure(
        'name-chaining',
        `the issuer of ${who} is not the subject of the certificate above it`,
      );
    // (b)(c) name constraints; a self-issued CA certificate is exempt.
    if (!(c.selfIssued && i < n)) {
      const v = constraints.violation(c);
      if (v) throw new PathFailure('name-constraints', `${who}: ${v}`);
    }
    // (d)(e)(f) certificate policies.
    if (c.policies) tree.processPolicies(i, c.policies, inhibitAny > 0 || (i < n && c.selfIssued));
    else tree.clear();
    if (explicitPolicy === 0 && tree.isNull)
      throw new PathFailure('policy', `no acceptable certificate policy remains at ${who}`);

    if (i < n) {
      // §6.1.4: preparation for certificate i + 1.
      const mappings = c.policyMappings ?? [];
      if (mappings.some((m) => m.issuer === OID.anyPolicy || m.subject === OID.anyPolicy))
        throw new PathFailure('policy-mapping', `${who} maps to or from anyPolicy`);
      if (mappings.length > 0) tree.applyMappings(i, mappings, policyMapping > 0);
      workingIssuer = c.subject;
      const spki = readSpki(c.cert.publicKey);
      if (spki.parameters) workingParams = spki.parameters;
      else if (spki.algorithm !== workingAlgorithm) workingParams = undefined;
      workingAlgorithm = spki.algorithm;
      workingKey = keyWithParameters(c.cert.publicKey, workingParams);
      keys.push(workingKey);
      constraints.add(c);
      if (!c.selfIssued) {
        if (explicitPolicy !== 0) explicitPolicy--;
        if (policyMapping !== 0) policyMapping--;
        if (inhibitAny !== 0) inhibitAny--;
      }
      if (c.requireExplicitPolicy !== undefined && c.requireExplicitPolicy < explicitPolicy)
        explicitPolicy = c.requireExplicitPolicy;
      if (c.inhibitPolicyMapping !== undefined && c.inhibitPolicyMapping < policyMapping)
        policyMapping = c.inhibitPolicyMapping;
      if (c.inhibitAnyPolicy !== undefined && c.inhibitAnyPolicy < inhibitAny)
        inhibitAny = c.inhibitAnyPolicy;
      if (!c.basic?.ca)
        throw new PathFailure('not-a-ca', `${who} is not a CA certificate (basicConstraints)`);
      if (!c.selfIssued) {
        if (maxPathLength <= 0)
          throw new PathFailure('path-length', `${who} exceeds a pathLenConstraint above it`);
        maxPathLength--;
      }
      if (c.basic.pathLen !== undefined && c.basic.pathLen < maxPathLength) maxPathLength = c.basic.pathLen;
      if (c.keyUsage !== undefined && !(c.keyUsage & (1 << KU.keyCertSign)))
        throw new PathFailure('key-usage', `${who} may not sign certificates (keyUsage lacks keyCertSign)`);
    } else {
      // §6.1.5: wrap-up.
      if (explicitPolicy !== 0) explicitPolicy--;
      if (c.requireExplicitPolicy === 0) explicitPolicy = 0;
      if (c.keyUsage !== undefined && (c.keyUsage & o.requiredKeyUsage) !== o.requiredKeyUsage)
        throw new PathFailure('key-usage', `${who} lacks a required key usage`);
      const spki = readSpki(c.cert.publicKey);
      keys.push(
        keyWithParameters(c.cert.publicKey, spki.algorithm === workingAlgorithm ? workingParams : undefined),
      );
    }
    if (c.unknownCritical.length > 0)
      throw new PathFailure(
        'unknown-critical-extension',
        `${who} has a critical extension this validator does not process (${c.unknownCritical.join(', ')})`,
      );
  }
  tree.intersect(n, o.initialPolicies);
  if (explicitPolicy === 0 && tree.isNull)
    throw new PathFailure('policy', 'the path is not valid for any acceptable certificate policy');
  return { policies: tree.isNull ? undefined : tree.leafPolicies(n), keys };
}
