import { createHash } from 'node:crypto';
import { AuditLog } from '../auth/index.js';
import type { Config } from '../config.js';
import { type KeyBackend, openKeyBackend, type Signer } from '../keys/index.js';
import {
  buildCertificate,
  type DistinguishedName,
  decodeName,
  describeKey,
  type Extension,
  ext,
  fingerprint,
  formatName,
  type GeneralName,
  keyIdentifier,
  keySpecOf,
  type ParsedCertificate,
  parseCertificate,
  parseCsrAsync,
  parseName,
  type RevocationReason,
  randomSerial,
  type SignatureAlgorithm,
  serialFromHex,
  serialToHex,
} from '../pki/index.js';
import {
  type CaRecord,
  type CertificateQuery,
  type CertificateRecord,
  Store,
  StoreError,
  type StoreView,
} from '../store/index.js';
import { CaError } from './errors.js';
import { IssueBatch } from './issue-batch.js';
import { nextStatus } from './lifecycle.js';
import { isOffline } from './offline-root.js';
import { type Profile, type ProfileName, profileNamed, resolveProfiles } from './profiles.js';
import { checkReason, type Requester } from './reasons.js';
import { newValidity, renewalValidity, wholeSecond } from './validity.js';

/** Who did it; every operation writes it into the audit log. */
export interface Actor {
  actor: string;
}

export interface IssueRequest extends Actor {
  csr: Uint8Array | string;
  profile: string;
  /** The approved subject; it wins over the CSR's. */
  subject?: string;
  days?: number;
  altNames?: GeneralName[];
  caId?: string;
}

export interface RenewRequest extends Actor {
  /** A new key, when the subscriber re-keys; without it the old key is kept. */
  csr?: Uint8Array | string;
  days?: number;
}

export interface ChangeRequest extends Actor {
  subject: string;
  csr?: Uint8Array | string;
}

export interface RevokeRequest extends Actor {
  reason: RevocationReason;
  requester?: Requester;
}

/** The CA-side state of one issuing key, kept in memory between operations. */
export interface Issuer {
  ca: CaRecord;
  cert: ParsedCertificate;
  algorithm: SignatureAlgorithm;
  signer?: Promise<Signer>;
  fixed: Extension[];
}

/** Opens the key backend the configuration names; secrets are read now, not before. */
export function openConfiguredKeyBackend(config: Config): Promise<KeyBackend> {
  const k = config.keys;
  return k.backend === 'soft'
    ? openKeyBackend({ kind: 'soft', dir: k.dir, passphrase: k.passphrase.read() })
    : openKeyBackend({
        kind: 'pkcs11',
        module: k.module,
        tokenLabel: k.tokenLabel,
        pin: k.pin.read(),
        poolSize: k.poolSize,
      });
}

/** Told after a certificate's status change is committed (the OCSP cache listens). */
export type StatusListener = (change: {
  serial: string;
  caId: string;
  status: CertificateRecord['status'];
}) => void;

/** URLs under the public base URL that certificates point to. */
export function publicUrls(base: string, caId: string) {
  return {
    caIssuers: `${base}/ca/${caId}.cer`,
    ocsp: `${base}/ocsp`,
    crl: `${base}/crl/${caId}.crl`,
    deltaCrl: `${base}/crl/${caId}-delta.crl`,
  };
}

/** The certification authority: issues, renews, changes, revokes, holds and releases certificates. */
export class CertificateAuthority {
  readonly profiles: Record<ProfileName, Profile>;
  readonly audit = new AuditLog();
  private readonly batch = new IssueBatch((fn) => this.transaction(fn), this.audit);
  private keys?: Promise<KeyBackend>;
  private readonly issuers = new Map<string, Issuer>();
  private readonly statusListeners: StatusListener[] = [];

  private constructor(
    readonly config: Config,
    readonly store: Store,
    private readonly ownsStore: boolean,
  ) {
    this.profiles = resolveProfiles(config.profiles);
  }

  /** Calls `listener` after each committed revocation, hold, release or supersession. */
  onStatusChange(listener: StatusListener): void {
    this.statusListeners.push(listener);
  }

  /** Tells the listeners of a status change committed outside the CA engine (an imported root answer). */
  notifyStatusChange(serial: string, caId: string, status: CertificateRecord['status']): void {
    this.statusChanged(serial, caId, status);
  }

  private statusChanged(serial: string, caId: string, status: CertificateRecord['status']): void {
    for (const l of this.statusListeners) l({ serial, caId, status });
  }

  /** Opens an initialized CA; the key backend is opened on the first signature. */
  static async open(config: Config, options: { store?: Store } = {}): Promise<CertificateAuthority> {
    const store = options.store ?? (await Store.open(config.database));
    const authority = new CertificateAuthority(config, store, !options.store);
    if (!(await store.settings.get('ca.default'))) {
      if (!options.store) await store.close();
      throw new CaError(
        'not-initialized',
        `the CA in ${config.dataDir} is not initialized: run \`kyso init\``,
      );
    }
    return authority;
  }

  /** The key backend, opened once. */
  keyBackend(): Promise<KeyBackend> {
    if (!this.keys) {
      this.keys = openConfiguredKeyBackend(this.config);
      this.keys.catch(() => {
        this.keys = undefined;
      });
    }
    return this.keys;
  }

  /** The id of the CA that issues subscriber certificates. */
  async defaultCaId(): Promise<string> {
    const id = await this.store.settings.get('ca.default');
    if (!id) throw new CaError('not-initialized', 'no default issuing CA');
    return id;
  }

  /** A CA's record, parsed certificate and signature algorithm, cached. */
  async issuer(caId: string): Promise<Issuer> {
    const cached = this.issuers.get(caId);
    if (cached) return cached;
    const ca = await this.store.cas.get(caId);
    if (!ca) throw new CaError('unknown-ca', `unknown CA "${caId}"`);
    const cert = parseCertificate(ca.certificate);
    const urls = publicUrls(this.config.publicUrl, caId);
    const issuer: Issuer = {
      ca,
      cert,
      algorithm: ca.algorithm as SignatureAlgorithm,
      fixed: [
        ext.authorityKeyIdentifier(cert.subjectKeyId ?? keyIdentifier(cert.publicKey)),
        ext.authorityInfoAccess({ ocsp: [urls.ocsp], caIssuers: [urls.caIssuers] }),
        ext.crlDistributionPoints([urls.crl]),
        ext.freshestCrl([urls.deltaCrl]),
      ],
    };
    this.issuers.set(caId, issuer);
    return issuer;
  }

  /** The signer of a CA's key, loaded once. */
  async caSigner(caId: string): Promise<Signer> {
    const issuer = await this.issuer(caId);
    if (isOffline(issuer.ca))
      throw new CaError('offline-ca', `the key of CA "${caId}" is kept offline: sign at the root ceremony`);
    if (!issuer.signer) {
      issuer.signer = this.keyBackend().then((k) => k.signer(issuer.ca.keyRef, issuer.algorithm));
      issuer.signer.catch(() => {
        issuer.signer = undefined;
      });
    }
    return issuer.signer;
  }

  /** The issuing CA and the certificates above it, leaf-most first. */
  async chain(caId?: string): Promise<CaRecord[]> {
    const out: CaRecord[] = [];
    let id: string | null = caId ?? (await this.defaultCaId());
    while (id) {
      const ca = await this.store.cas.get(id);
      if (!ca) throw new CaError('unknown-ca', `unknown CA "${id}"`);
      out.push(ca);
      id = ca.parentId;
    }
    return out;
  }

  /** Issues a certificate from a PKCS#10 request under a profile. */
  async issue(req: IssueRequest): Promise<CertificateRecord> {
    const profile = profileNamed(this.profiles, req.profile);
    const csr = await parseCsrAsync(req.csr);
    this.checkKey(profile, csr.publicKey);
    const subject = req.subject !== undefined ? parseName(req.subject) : csr.subject;
    const caId = req.caId ?? (profile.issuer === 'root' ? await this.rootId() : await this.defaultCaId());
    const issuer = await this.issuer(caId);
    const now = wholeSecond();
    const validity = newValidity(profile, issuer.cert.notAfter, now, req.days);
    return this.sign(issuer, profile, {
      subject,
      publicKey: csr.publicKey,
      ...validity,
      // Only the names the operator approved (--san) and the profile's rules: a CSR's own names are a wish.
      altNames: req.altNames ?? [],
      action: 'certificate.issue',
      actor: req.actor,
      now,
    });
  }

  /**
   * Issues a certificate for a key pair the CA itself made (on a token or in the HSM), so no
   * CSR proves possession: the key never left our hands.
   */
  async issueForKey(
    req: Omit<IssueRequest, 'csr' | 'subject'> & { subject: string; publicKey: Uint8Array },
  ): Promise<CertificateRecord> {
    const profile = profileNamed(this.profiles, req.profile);
    this.checkKey(profile, req.publicKey);
    const caId = req.caId ?? (profile.issuer === 'root' ? await this.rootId() : await this.defaultCaId());
    const issuer = await this.issuer(caId);
    const now = wholeSecond();
    return this.sign(issuer, profile, {
      subject: parseName(req.subject),
      publicKey: req.publicKey,
      ...newValidity(profile, issuer.cert.notAfter, now, req.days),
      altNames: req.altNames ?? [],
      action: 'certificate.issue',
      actor: req.actor,
      now,
    });
  }

  /** Renews a certificate: same subject and profile, the same key or a new one from a CSR. */
  async renew(serialHex: string, req: RenewRequest): Promise<CertificateRecord> {
    const { old, oldCert, profile, publicKey, issuer, now } = await this.reissue(serialHex, 'renew', req.csr);
    const validity = renewalValidity(profile, issuer.cert.notAfter, old.notAfter, now, req.days);
    return this.sign(issuer, profile, {
      subject: oldCert.subjectDer,
      publicKey,
      ...validity,
      altNames: [],
      carriedAltNames: altNameExtension(oldCert),
      action: 'certificate.renew',
      actor: req.actor,
      now,
      renewedFrom: old.serial,
    });
  }

  /** What renewal and change both start from: a live certificate, its profile, and the key to certify. */
  private async reissue(serialHex: string, action: 'renew' | 'change', csr?: Uint8Array | string) {
    const old = await this.get(serialHex);
    nextStatus(old.status, action, old.serial);
    const now = wholeSecond();
    if (old.notAfter <= now) {
      throw new CaError(
        'expired',
        `certificate ${old.serial} expired on ${old.notAfter.toISOString()}: issue a new one`,
      );
    }
    const profile = profileNamed(this.profiles, old.profile);
    const oldCert = parseCertificate(old.der);
    const publicKey = csr ? (await parseCsrAsync(csr)).publicKey : oldCert.publicKey;
    this.checkKey(profile, publicKey);
    const issuer = await this.issuer(old.caId);
    return { old, oldCert, profile, publicKey, issuer, now };
  }

  /**
   * Changes a certificate's information: a new certificate with the new subject until the old
   * one's end, and the old one revoked as superseded, in one transaction.
   */
  async change(serialHex: string, req: ChangeRequest): Promise<CertificateRecord> {
    const { old, profile, publicKey, issuer, now } = await this.reissue(serialHex, 'change', req.csr);
    const subject = parseName(req.subject);
    return this.sign(issuer, profile, {
      subject,
      publicKey,
      notBefore: now,
      notAfter: old.notAfter,
      altNames: [],
      action: 'certificate.change',
      actor: req.actor,
      now,
      replaces: old,
    });
  }

  /** Revokes a certificate for an RFC 5280 reason. */
  async revoke(serialHex: string, req: RevokeRequest): Promise<CertificateRecord> {
    checkReason(req.reason, req.requester ?? 'ra-officer');
    return this.changeStatus(serialHex, 'revoke', req.actor, { reason: req.reason });
  }

  /** Suspends a certificate (certificateHold) until it is released or revoked. */
  async hold(serialHex: string, req: Actor): Promise<CertificateRecord> {
    return this.changeStatus(serialHex, 'hold', req.actor, { reason: 'certificateHold' });
  }

  /** Lifts a hold; the next delta CRL carries the certificate as removeFromCRL. */
  async release(serialHex: string, req: Actor): Promise<CertificateRecord> {
    return this.changeStatus(serialHex, 'release', req.actor, { reason: 'removeFromCRL' });
  }

  /** One certificate by serial (hex, as `openssl x509 -serial` prints it). */
  async get(serialHex: string): Promise<CertificateRecord> {
    const serial = serialToHex(serialFromHex(serialHex));
    const record = await this.store.certificates.get(serial);
    if (!record) throw new CaError('unknown-certificate', `no certificate with serial ${serial}`);
    return record;
  }

  /** Searches issued certificates. */
  search(query: CertificateQuery): Promise<CertificateRecord[]> {
    return this.store.certificates.search(query);
  }

  /** Closes the key backend and, if this authority opened it, the database. */
  async close(): Promise<void> {
    const keys = this.keys;
    this.keys = undefined;
    if (keys) await (await keys.catch(() => undefined))?.close();
    if (this.ownsStore) await this.store.close();
  }

  /** Runs a state change with its audit entry in one transaction; the audit head is re-read after a rollback. */
  async transaction<T>(fn: (tx: StoreView) => Promise<T>): Promise<T> {
    try {
      return await this.store.transaction(fn);
    } catch (e) {
      this.audit.forget();
      throw e;
    }
  }

  private async rootId(): Promise<string> {
    const root = (await this.store.cas.list()).find((c) => c.role === 'root' && c.status === 'active');
    if (!root) throw new CaError('not-initialized', 'no root CA');
    return root.id;
  }

  private checkKey(profile: Profile, spki: Uint8Array): void {
    const spec = keySpecOf(spki);
    if (!spec || !profile.keySpecs.includes(spec)) {
      throw new CaError(
        'key-not-allowed',
        `the ${profile.name} profile does not accept ${spec ?? describe(spki)} keys; it accepts ${profile.keySpecs.join(', ')}`,
      );
    }
  }

  private async changeStatus(
    serialHex: string,
    action: 'revoke' | 'hold' | 'release',
    actor: string,
    change: { reason: RevocationReason },
  ): Promise<CertificateRecord> {
    const record = await this.get(serialHex);
    const to = nextStatus(record.status, action, record.serial);
    const at = wholeSecond();
    const revokedAt = to === 'active' ? null : at;
    await this.transaction(async (tx) => {
      const moved = await tx.certificates.changeStatus(record.serial, record.status, {
        status: to,
        revokedAt,
        reason: change.reason,
        at,
      });
      if (!moved)
        throw new CaError(
          'illegal-transition',
          `certificate ${record.serial} changed status meanwhile; try again`,
        );
      // The stored pre-signed OCSP answer is stale from this commit on.
      await tx.ocspResponses.forget(record.serial);
      await this.audit.append(tx, {
        actor,
        action: `certificate.${action}`,
        target: record.serial,
        details: { caId: record.caId, from: record.status, to, reason: change.reason },
      });
    });
    this.statusChanged(record.serial, record.caId, to);
    return { ...record, status: to, revokedAt, revocationReason: change.reason, statusChangedAt: at };
  }

  private async sign(
    issuer: Issuer,
    profile: Profile,
    o: {
      subject: DistinguishedName | Uint8Array;
      publicKey: Uint8Array;
      notBefore: Date;
      notAfter: Date;
      altNames: GeneralName[];
      carriedAltNames?: Extension;
      action: string;
      actor: string;
      now: Date;
      renewedFrom?: string;
      replaces?: CertificateRecord;
    },
  ): Promise<CertificateRecord> {
    const dn = o.subject instanceof Uint8Array ? decodeName(o.subject) : o.subject;
    const commonName = dn.find((a) => a.type === 'CN')?.value;
    if (!commonName) throw new CaError('bad-subject', 'the subject must have a common name (CN)');
    const email = dn.find((a) => a.type === 'E')?.value;
    const organization = dn.find((a) => a.type === 'O')?.value ?? null;
    const spec = keySpecOf(o.publicKey)!;
    const altNames = o.carriedAltNames ? [] : profile.altNames({ email, commonName }, o.altNames);
    const extensions: Extension[] = [
      ext.basicConstraints(profile.ca, profile.pathLen),
      ext.keyUsage(profile.keyUsage(spec)),
      ...(profile.extendedKeyUsage.length
        ? [ext.extendedKeyUsage(profile.extendedKeyUsage, profile.ekuCritical)]
        : []),
      ext.subjectKeyIdentifier(keyIdentifier(o.publicKey)),
      ...issuer.fixed,
      ...(profile.policies.length
        ? [ext.certificatePolicies(profile.policies.map((oid) => ({ oid, cps: profile.cps })))]
        : []),
      ...(o.carriedAltNames ? [o.carriedAltNames] : altNames.length ? [ext.subjectAltName(altNames)] : []),
      ...(profile.ocspNoCheck ? [ext.ocspNoCheck()] : []),
    ];
    const signer = await this.caSigner(issuer.ca.id);
    for (let attempt = 0; ; attempt++) {
      const serial = randomSerial();
      const der = await buildCertificate(
        {
          serial,
          issuer: issuer.cert.subjectDer,
          subject: o.subject,
          notBefore: o.notBefore,
          notAfter: o.notAfter,
          publicKey: o.publicKey,
          signatureAlgorithm: issuer.algorithm,
          extensions,
        },
        (tbs) => signer.sign(tbs),
      );
      const record: CertificateRecord = {
        serial: serialToHex(serial),
        caId: issuer.ca.id,
        profile: profile.name,
        status: 'active',
        subject: formatName(dn),
        commonName,
        organization,
        email: email ?? null,
        notBefore: o.notBefore,
        notAfter: o.notAfter,
        der,
        fingerprint: fingerprint(der),
        keySha256: createHash('sha256').update(o.publicKey).digest('hex'),
        revokedAt: null,
        revocationReason: null,
        statusChangedAt: o.now,
        renewedFrom: o.renewedFrom ?? null,
        replacedBy: null,
        createdAt: o.now,
      };
      const event = {
        actor: o.actor,
        action: o.action,
        target: record.serial,
        details: {
          caId: issuer.ca.id,
          profile: profile.name,
          subject: record.subject,
          notAfter: record.notAfter.toISOString(),
          ...(o.renewedFrom ? { renewedFrom: o.renewedFrom } : {}),
          ...(o.replaces ? { replaces: o.replaces.serial } : {}),
        },
      };
      try {
        const replaces = o.replaces;
        if (!replaces) await this.batch.write(record, event);
        else {
          await this.transaction(async (tx) => {
            await tx.certificates.insert(record);
            const moved = await tx.certificates.changeStatus(replaces.serial, replaces.status, {
              status: 'revoked',
              revokedAt: o.now,
              reason: 'superseded',
              at: o.now,
            });
            if (!moved)
              throw new CaError(
                'illegal-transition',
                `certificate ${replaces.serial} changed status meanwhile`,
              );
            await tx.certificates.setReplacedBy(replaces.serial, record.serial);
            await tx.ocspResponses.forget(replaces.serial);
            await this.audit.append(tx, event);
          });
          this.statusChanged(replaces.serial, replaces.caId, 'revoked');
        }
        return record;
      } catch (e) {
        // A serial collision (2^-120) or a racing audit writer: try once more with a fresh serial.
        if (e instanceof StoreError && e.code === 'conflict' && attempt === 0) continue;
        throw e;
      }
    }
  }
}

const SUBJECT_ALT_NAME = '2.5.29.17';

/** The old certificate's subject alternative names, carried into its renewal unchanged. */
function altNameExtension(cert: ParsedCertificate): Extension | undefined {
  return cert.extensions.find((e) => e.oid === SUBJECT_ALT_NAME);
}

function describe(spki: Uint8Array): string {
  const k = describeKey(spki);
  return k.kind === 'rsa' ? `RSA-${k.bits}` : k.kind === 'ec' ? `EC ${k.curve}` : `algorithm ${k.oid}`;
}
