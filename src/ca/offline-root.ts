import {
  buildOcspResponse,
  type CertIdHash,
  issuerHashes,
  keyIdentifier,
  type OcspCertStatus,
  ocspCertId,
  type ParsedCertificate,
  PkiError,
  parseCertificate,
  parseCrl,
  parseOcspResponse,
  type RevocationReason,
  serialFromHex,
  verifySignature,
} from '../pki/index.js';
import type { CaRecord, CertificateRecord, CertificateStatus, StoreView } from '../store/index.js';
import type { CertificateAuthority } from './authority.js';
import { type IssuedCrl, issueCrl } from './crl.js';
import { CaError } from './errors.js';
import { wholeSecond } from './validity.js';

const DAY = 86_400_000;

/**
 * The key reference an online data directory records for a root whose key it does not hold.
 * No key backend knows the `offline:` kind, so nothing can ever load it as a key.
 */
export const OFFLINE_KEY_REF = 'offline:root';

/** Whether a CA's key is kept off this installation (an offline root). */
export function isOffline(ca: CaRecord): boolean {
  return ca.keyRef === OFFLINE_KEY_REF;
}

/** The CertID hashes a pre-signed answer is made for: SHA-1 (RFC 5019 clients) and SHA-256. */
export const PRESIGNED_HASHES: readonly CertIdHash[] = ['sha1', 'sha256'];

/** A pre-signed OCSP answer about one certificate, for one CertID hash. */
export interface PresignedOcsp {
  serial: string;
  hash: CertIdHash;
  der: Uint8Array;
  nextUpdate: Date;
}

/** A root CRL signed at the ceremony with a long validity, for the online server to publish. */
export async function presignRootCrl(
  root: CertificateAuthority,
  o: { days: number; actor: string; now?: Date },
): Promise<IssuedCrl> {
  const caId = await root.defaultCaId();
  return issueCrl(root, { caId, actor: o.actor, validityHours: o.days * 24, withoutDelta: true, now: o.now });
}

/**
 * OCSP answers signed by the root itself about every unexpired certificate it issued (the issuing
 * CAs), valid for `days`, so the online server can answer without the root key.
 */
export async function presignRootOcsp(
  root: CertificateAuthority,
  o: { days: number; actor: string; now?: Date },
): Promise<PresignedOcsp[]> {
  const caId = await root.defaultCaId();
  const issuer = await root.issuer(caId);
  const signer = await root.caSigner(caId);
  const thisUpdate = wholeSecond(o.now);
  const nextUpdate = new Date(thisUpdate.getTime() + o.days * DAY);
  const issued = (await root.search({ caId, limit: 10_000 })).filter((r) => r.notAfter > thisUpdate);
  const out: PresignedOcsp[] = [];
  for (const record of issued) {
    for (const hash of PRESIGNED_HASHES) {
      const certId = ocspCertId(hash, issuerHashes(issuer.cert, hash), serialFromHex(record.serial));
      const der = await buildOcspResponse(
        {
          responderKeyId: issuer.cert.subjectKeyId ?? keyIdentifier(issuer.cert.publicKey),
          producedAt: thisUpdate,
          responses: [{ certId, status: statusOf(record), thisUpdate, nextUpdate }],
          signatureAlgorithm: issuer.algorithm,
        },
        (tbs) => signer.sign(tbs),
      );
      out.push({ serial: record.serial, hash, der, nextUpdate });
    }
  }
  await root.transaction((tx) =>
    root.audit.append(tx, {
      actor: o.actor,
      action: 'ocsp.presign',
      target: caId,
      details: { serials: issued.map((r) => r.serial), nextUpdate: nextUpdate.toISOString() },
    }),
  );
  return out;
}

function statusOf(r: CertificateRecord): OcspCertStatus {
  if (r.status === 'active') return { status: 'good' };
  const reason = (
    r.status === 'hold' ? 'certificateHold' : (r.revocationReason ?? 'unspecified')
  ) as RevocationReason;
  return { status: 'revoked', revokedAt: r.revokedAt ?? r.statusChangedAt, reason };
}

/** What an import took in. */
export interface ImportedStatus {
  kind: 'crl' | 'ocsp';
  caId: string;
  /** The CRL number, or the serial an OCSP answer is about. */
  what: string;
  nextUpdate: Date;
}

/**
 * Takes a pre-signed root CRL or OCSP answer into the online data directory, after checking that
 * the offline root signed it, that it is current, and that it is newer than what is stored.
 */
export async function importRootStatus(
  online: CertificateAuthority,
  der: Uint8Array,
  o: { actor: string; now?: Date },
): Promise<ImportedStatus> {
  const now = o.now ?? new Date();
  const roots = (await online.store.cas.list()).filter(isOffline).map((ca) => ({
    ca,
    cert: parseCertificate(ca.certificate),
  }));
  if (roots.length === 0)
    throw new CaError('not-offline', 'this data directory has no offline root to import for');
  const kind: ImportedStatus['kind'] = looksLikeCrl(der) ? 'crl' : 'ocsp';
  let status: StatusChange | undefined;
  const imported = await online.transaction(async (tx) => {
    const done =
      kind === 'crl' ? await importCrl(tx, roots, der, now) : await importOcsp(tx, roots, der, now);
    status = done.status;
    await online.audit.append(tx, {
      actor: o.actor,
      action: `${kind}.import`,
      target: done.caId,
      details: { what: done.what, nextUpdate: done.nextUpdate.toISOString(), ...(status ? { status } : {}) },
    });
    return { kind, caId: done.caId, what: done.what, nextUpdate: done.nextUpdate };
  });
  // A running server learns of the change by polling the status column (watchStatusChanges).
  if (status) online.notifyStatusChange(status.serial, imported.caId, status.to);
  return imported;
}

type StatusChange = { serial: string; from: CertificateStatus; to: CertificateStatus };

type Root = { ca: CaRecord; cert: ParsedCertificate };

function looksLikeCrl(der: Uint8Array): boolean {
  try {
    parseCrl(der);
    return true;
  } catch (e) {
    if (e instanceof PkiError) return false;
    throw e;
  }
}

async function importCrl(tx: StoreView, roots: Root[], der: Uint8Array, now: Date) {
  const crl = parseCrl(der);
  const root = roots.find((r) => same(r.cert.subjectDer, crl.issuerDer));
  if (!root) throw new CaError('bad-import', 'the CRL is not from this installation’s offline root');
  if (!verifySignature(crl.signatureAlgorithm, root.cert.publicKey, crl.tbs, crl.signature))
    throw new CaError('bad-import', 'the CRL signature does not verify with the offline root');
  if (crl.deltaBase !== undefined || crl.number === undefined)
    throw new CaError('bad-import', 'an offline root publishes full, numbered CRLs only');
  if (!crl.nextUpdate || crl.nextUpdate <= now)
    throw new CaError('bad-import', 'the CRL has already expired: sign a new one at the root');
  const number = Number(crl.number);
  const latest = await tx.crls.latestNumber(root.ca.id, 'full');
  if (latest !== undefined && number <= latest)
    throw new CaError('bad-import', `CRL ${number} is not newer than the stored CRL ${latest}`);
  await tx.crls.insert({
    caId: root.ca.id,
    number,
    deltaBase: null,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    entries: crl.entries.length,
    der,
    createdAt: wholeSecond(now),
  });
  return { caId: root.ca.id, what: String(number), nextUpdate: crl.nextUpdate, status: undefined };
}

async function importOcsp(tx: StoreView, roots: Root[], der: Uint8Array, now: Date) {
  let r: ReturnType<typeof parseOcspResponse>;
  try {
    r = parseOcspResponse(der);
  } catch (e) {
    if (e instanceof PkiError)
      throw new CaError('bad-import', 'the file is neither a CRL nor an OCSP response');
    throw e;
  }
  if (
    r.status !== 'successful' ||
    r.responses.length !== 1 ||
    !r.tbs ||
    !r.signature ||
    !r.signatureAlgorithm
  )
    throw new CaError('bad-import', 'a pre-signed OCSP answer is one signed response about one certificate');
  const single = r.responses[0];
  const root = roots.find((x) => {
    const h = issuerHashes(x.cert, single.certId.hashAlgorithm);
    return same(h.nameHash, single.certId.issuerNameHash) && same(h.keyHash, single.certId.issuerKeyHash);
  });
  if (!root)
    throw new CaError('bad-import', 'the OCSP answer is not about a certificate of the offline root');
  if (!verifySignature(r.signatureAlgorithm, root.cert.publicKey, r.tbs, r.signature))
    throw new CaError('bad-import', 'the OCSP answer is not signed by the offline root');
  if (!single.nextUpdate || single.nextUpdate <= now)
    throw new CaError('bad-import', 'the OCSP answer has already expired: sign a new one at the root');
  const key = Buffer.from(single.certId.der).toString('hex');
  const stored = await tx.ocspResponses.get(key);
  if (stored && stored.thisUpdate >= single.thisUpdate)
    throw new CaError('bad-import', `the stored answer about ${single.serialHex} is as new or newer`);
  // The root revoked (or held) an issuing CA at its ceremony: the online records follow.
  const record = await tx.certificates.get(single.serialHex);
  let status: StatusChange | undefined;
  if (record && single.status !== 'unknown') {
    const to: CertificateStatus =
      single.status === 'good' ? 'active' : single.reason === 'certificateHold' ? 'hold' : 'revoked';
    if (to !== record.status) {
      await tx.certificates.changeStatus(record.serial, record.status, {
        status: to,
        revokedAt: to === 'active' ? null : (single.revokedAt ?? single.thisUpdate),
        reason: to === 'active' ? 'removeFromCRL' : (single.reason ?? 'unspecified'),
        at: wholeSecond(now),
      });
      status = { serial: record.serial, from: record.status, to };
    }
  }
  // Stored against the status it now has, so a later status change online drops it (compare-and-set).
  const current = await tx.certificates.statusOf(single.serialHex);
  if (!current)
    throw new CaError(
      'bad-import',
      `the pre-signed answer names ${single.serialHex}, which this CA does not hold`,
    );
  await tx.ocspResponses.putIfCurrent({
    certId: key,
    serial: single.serialHex,
    der,
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
    statusVersion: current.version,
  });
  return { caId: root.ca.id, what: single.serialHex, nextUpdate: single.nextUpdate, status };
}

/** One pre-signed root CRL, or the answers about one certificate, and when it runs out (null: missing). */
export interface PresignedItem {
  caId: string;
  kind: 'crl' | 'ocsp';
  /** The CRL number, or the serial the answers are about. */
  what: string;
  nextUpdate: Date | null;
}

/** When the offline roots' pre-signed CRL and OCSP answers run out, soonest first. */
export async function presignedExpiry(online: CertificateAuthority): Promise<PresignedItem[]> {
  const out: PresignedItem[] = [];
  for (const ca of await online.store.cas.list()) {
    if (!isOffline(ca)) continue;
    const cert = parseCertificate(ca.certificate);
    const crl = await online.store.crls.latest(ca.id, 'full');
    out.push({
      caId: ca.id,
      kind: 'crl',
      what: crl ? String(crl.number) : 'none',
      nextUpdate: crl?.nextUpdate ?? null,
    });
    const now = new Date();
    for (const r of await online.search({ caId: ca.id, limit: 10_000 })) {
      if (r.notAfter <= now) continue;
      let soonest: Date | null = null;
      for (const hash of PRESIGNED_HASHES) {
        const id = ocspCertId(hash, issuerHashes(cert, hash), serialFromHex(r.serial));
        const stored = await online.store.ocspResponses.get(Buffer.from(id.der).toString('hex'));
        const next = stored?.nextUpdate ?? null;
        if (!next) {
          soonest = null;
          break;
        }
        if (!soonest || next < soonest) soonest = next;
      }
      out.push({ caId: ca.id, kind: 'ocsp', what: r.serial, nextUpdate: soonest });
    }
  }
  return out.sort((a, b) => (a.nextUpdate?.getTime() ?? 0) - (b.nextUpdate?.getTime() ?? 0));
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}
