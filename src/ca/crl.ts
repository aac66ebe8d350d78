import { buildCrl, type CrlEntry, type RevocationReason, serialFromHex } from '../pki/index.js';
import type { RevokedEntry } from '../store/index.js';
import { type CertificateAuthority, publicUrls } from './authority.js';
import { wholeSecond } from './validity.js';

const HOUR = 3_600_000;
// A delta reaches back a little before its base so a change committed while the base was being built is not missed.
const DELTA_OVERLAP_MS = 60_000;

export interface CrlRequest {
  caId?: string;
  delta?: boolean;
  actor: string;
  onProgress?: (entries: number) => void;
  /** Overrides the configured validity (an offline root signs for months). */
  validityHours?: number;
  /** No Freshest-CRL pointer: an offline root publishes no delta CRLs. */
  withoutDelta?: boolean;
  now?: Date;
}

export interface IssuedCrl {
  caId: string;
  number: number;
  deltaBase: number | null;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: number;
  der: Uint8Array;
}

/** Makes, signs and stores a full or delta CRL for a CA. A delta without a full CRL to build on makes the full one first. */
export async function issueCrl(authority: CertificateAuthority, req: CrlRequest): Promise<IssuedCrl> {
  const caId = req.caId ?? (await authority.defaultCaId());
  const issuer = await authority.issuer(caId);
  const signer = await authority.caSigner(caId);
  const store = authority.store;
  let base = req.delta ? await store.crls.latest(caId, 'full') : undefined;
  if (req.delta && !base) {
    await issueCrl(authority, { ...req, delta: false });
    base = await store.crls.latest(caId, 'full');
  }
  const urls = publicUrls(authority.config.publicUrl, caId);
  const hours =
    req.validityHours ??
    (req.delta ? authority.config.crl.deltaValidityHours : authority.config.crl.validityHours);

  for (let attempt = 0; ; attempt++) {
    const thisUpdate = wholeSecond(req.now);
    const number = await store.crls.nextNumber(caId);
    let count = 0;
    const rows = base
      ? store.certificates.changedSince(
          caId,
          new Date(base.thisUpdate.getTime() - DELTA_OVERLAP_MS),
          thisUpdate,
        )
      : store.certificates.revoked(caId, thisUpdate);
    const entries = (async function* (): AsyncIterable<CrlEntry> {
      for await (const row of rows) {
        count++;
        yield toCrlEntry(row);
      }
    })();
    const nextUpdate = new Date(thisUpdate.getTime() + hours * HOUR);
    const der = await buildCrl(
      {
        issuer: issuer.cert.subjectDer,
        thisUpdate,
        nextUpdate,
        number: BigInt(number),
        deltaBase: base ? BigInt(base.number) : undefined,
        signatureAlgorithm: issuer.algorithm,
        authorityKeyId: issuer.cert.subjectKeyId!,
        distributionPoint: urls.crl,
        freshestCrl: base || req.withoutDelta ? undefined : urls.deltaCrl,
      },
      entries,
      (tbs) => signer.sign(tbs),
      req.onProgress,
    );
    const crl: IssuedCrl = {
      caId,
      number,
      deltaBase: base?.number ?? null,
      thisUpdate,
      nextUpdate,
      entries: count,
      der,
    };
    try {
      await authority.transaction(async (tx) => {
        await tx.crls.insert({ ...crl, createdAt: thisUpdate });
        await authority.audit.append(tx, {
          actor: req.actor,
          action: base ? 'crl.delta' : 'crl.full',
          target: caId,
          details: { number, deltaBase: crl.deltaBase, entries: count, nextUpdate: nextUpdate.toISOString() },
        });
      });
      return crl;
    } catch (e) {
      // Another process took this CRL number; number it again.
      if ((e as { code?: string }).code === 'conflict' && attempt < 2) continue;
      throw e;
    }
  }
}

function toCrlEntry(row: RevokedEntry): CrlEntry {
  const serial = serialFromHex(row.serial);
  if (row.status === 'hold')
    return { serial, revokedAt: row.revokedAt ?? row.statusChangedAt, reason: 'certificateHold' };
  if (row.status === 'active') return { serial, revokedAt: row.statusChangedAt, reason: 'removeFromCRL' };
  return {
    serial,
    revokedAt: row.revokedAt ?? row.statusChangedAt,
    reason: (row.reason ?? 'unspecified') as RevocationReason,
  };
}
