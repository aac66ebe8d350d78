import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AUDIT_KEY_SETTING, type AuditKeySetting, AuditLog } from '../auth/index.js';
import { type Config, type ConfigFile, defaultPassphraseFile, readConfigFile } from '../config.js';
import type { KeyBackend, Signer } from '../keys/index.js';
import {
  buildCertificate,
  type DistinguishedName,
  defaultSignatureAlgorithm,
  encodeName,
  ext,
  fingerprint,
  formatName,
  type KeySpec,
  keyIdentifier,
  parseName,
  randomSerial,
  type SignatureAlgorithm,
  serialToHex,
} from '../pki/index.js';
import type { CaRecord, CertificateRecord } from '../store/index.js';
import { Store } from '../store/index.js';
import { CertificateAuthority, openConfiguredKeyBackend, publicUrls } from './authority.js';
import { CaError } from './errors.js';
import { importRootStatus, OFFLINE_KEY_REF, presignRootCrl, presignRootOcsp } from './offline-root.js';
import { wholeSecond } from './validity.js';

const DAY = 86_400_000;

export interface CeremonyOptions {
  rootName: string;
  /** Default: derived from the root's C and O. */
  issuingName?: string;
  keySpec: KeySpec;
  rsaPadding: 'pss' | 'pkcs1';
  /** The root's validity: 20 years, the CA's own certificate under Decree 68 Art. 9. */
  rootDays: number;
  issuingDays: number;
  rootId: string;
  issuingId: string;
  /** Subjects of the delegated service certificates; default: derived from the root's C and O. */
  ocspName?: string;
  tsaName?: string;
  actor: string;
  /** Marks a CA made for trying Kyso out; `kyso serve` says so loudly. */
  demo?: boolean;
  /**
   * An offline root: its key and records go to this other data directory (or its token), and the
   * online one gets the root certificate, a pre-signed root CRL and pre-signed OCSP answers.
   */
  offlineRoot?: { config: Config; presignedDays: number };
}

export interface CeremonyResult {
  cas: {
    id: string;
    role: 'root' | 'issuing';
    subject: string;
    fingerprint: string;
    notAfter: Date;
    /** Where the CA's key is: the data directory whose key backend holds it. */
    dataDir: string;
  }[];
  services: { name: 'ocsp' | 'tsa'; serial: string; subject: string; fingerprint: string }[];
  passphraseFile?: string;
  rootPassphraseFile?: string;
  /** The audit key's public key (SPKI DER, base64): its fingerprint goes into the ceremony minutes. */
  auditKey: string;
  /** For an offline root: when the pre-signed CRL and OCSP answers run out. */
  presignedUntil?: Date;
}

/** Defaults for a ceremony: a Vietnamese-named root (the demo's) and ECDSA P-256. */
export function defaultCeremony(): CeremonyOptions {
  return {
    rootName: 'C=VN, O=Kyso, CN=Kyso Root CA',
    keySpec: 'ec-p256',
    rsaPadding: 'pss',
    rootDays: 7305,
    issuingDays: 3653,
    rootId: 'root',
    issuingId: 'issuing',
    actor: 'ceremony',
  };
}

/**
 * The subjects the ceremony gives the issuing CA and the service certificates when none is
 * named: the root's country and organization, and a common name made from the organization.
 */
export function derivedNames(rootName: string): { issuingName: string; ocspName: string; tsaName: string } {
  const root = parseName(rootName);
  const c = root.find((a) => a.type === 'C')?.value;
  const o = root.find((a) => a.type === 'O')?.value;
  if (!o)
    throw new CaError(
      'bad-subject',
      'the root name needs an organization (O=) to derive the other names from',
    );
  const name = (cn: string) =>
    formatName([
      ...(c ? [{ type: 'C', value: c }] : []),
      { type: 'O', value: o },
      { type: 'CN', value: cn },
    ] as DistinguishedName);
  return {
    issuingName: name(`${o} Issuing CA`),
    ocspName: name(`${o} OCSP Responder`),
    tsaName: name(`${o} Time-Stamp Authority`),
  };
}

const CA_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** What one data directory brings to the ceremony: its database and key backend. */
interface Side {
  config: Config;
  store: Store;
  keys: KeyBackend;
  passphraseFile?: string;
}

/**
 * The key ceremony: a self-issued root, an issuing CA under it, the delegated OCSP and
 * time-stamp certificates and the audit key, with keys made in the configured backend. With an
 * offline root, the root's key and records go to their own data directory. It refuses an
 * initialized data directory.
 */
export async function runCeremony(config: Config, options: CeremonyOptions): Promise<CeremonyResult> {
  for (const id of [options.rootId, options.issuingId]) {
    if (!CA_ID.test(id))
      throw new CaError('unknown-ca', `a CA id is 1–32 lowercase letters, digits or hyphens, got "${id}"`);
  }
  if (options.rootId === options.issuingId)
    throw new CaError('unknown-ca', 'the root and issuing CA ids must differ');
  const derived =
    options.issuingName && options.ocspName && options.tsaName ? undefined : derivedNames(options.rootName);
  const o = {
    ...options,
    issuingName: options.issuingName ?? derived!.issuingName,
    ocspName: options.ocspName ?? derived!.ocspName,
    tsaName: options.tsaName ?? derived!.tsaName,
  };
  const rootDn = parseName(o.rootName);
  const issuingDn = parseName(o.issuingName);
  parseName(o.ocspName);
  parseName(o.tsaName);
  if (o.issuingDays > o.rootDays) throw new CaError('bad-validity', 'the issuing CA cannot outlive the root');
  const rootConfig = o.offlineRoot?.config;
  if (rootConfig && path.resolve(rootConfig.dataDir) === path.resolve(config.dataDir))
    throw new CaError('unknown-ca', 'the offline root needs a data directory of its own');

  const sides: Side[] = [];
  try {
    for (const c of rootConfig ? [config, rootConfig] : [config]) sides.push(await openSide(c));
    const [online, offline] = sides;
    return await ceremony(o, online, offline, rootDn, issuingDn);
  } finally {
    for (const side of sides.reverse()) {
      await side.keys?.close();
      await side.store.close();
    }
  }
}

async function openSide(config: Config): Promise<Side> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await Store.open(config.database, { create: true });
  const side = { config, store } as Side;
  try {
    if (await store.settings.get('ca.default')) {
      throw new CaError(
        'already-initialized',
        `${config.dataDir} already holds a CA; the ceremony runs once per data directory`,
      );
    }
    side.passphraseFile = ensurePassphrase(config);
    side.keys = await openConfiguredKeyBackend(config);
    return side;
  } catch (e) {
    await store.close();
    throw e;
  }
}

type Names = Required<Pick<CeremonyOptions, 'issuingName' | 'ocspName' | 'tsaName'>>;

async function ceremony(
  o: CeremonyOptions & Names,
  online: Side,
  offline: Side | undefined,
  rootDn: ReturnType<typeof parseName>,
  issuingDn: ReturnType<typeof parseName>,
): Promise<CeremonyResult> {
  const algorithm = defaultSignatureAlgorithm(o.keySpec, o.rsaPadding);
  const tag = randomBytes(4).toString('hex');
  const now = wholeSecond();
  const rootSide = offline ?? online;

  const rootKey = await rootSide.keys.generateKey(`kyso-${o.rootId}-${tag}`, o.keySpec);
  const rootSigner = await rootSide.keys.signer(rootKey.ref, algorithm);
  const rootSubject = encodeName(rootDn);
  const rootSki = keyIdentifier(rootKey.publicKey);
  const rootNotAfter = new Date(now.getTime() + o.rootDays * DAY);
  const rootCert = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: rootSubject,
      subject: rootSubject,
      notBefore: now,
      notAfter: rootNotAfter,
      publicKey: rootKey.publicKey,
      signatureAlgorithm: algorithm,
      extensions: [
        ext.basicConstraints(true),
        ext.keyUsage(['keyCertSign', 'cRLSign']),
        ext.subjectKeyIdentifier(rootSki),
      ],
    },
    sign(rootSigner),
  );

  const issuingKey = await online.keys.generateKey(`kyso-${o.issuingId}-${tag}`, o.keySpec);
  const rootUrls = publicUrls(online.config.publicUrl, o.rootId);
  const issuingSerial = randomSerial();
  const issuingNotAfter = new Date(now.getTime() + o.issuingDays * DAY);
  const issuingCert = await buildCertificate(
    {
      serial: issuingSerial,
      issuer: rootSubject,
      subject: issuingDn,
      notBefore: now,
      notAfter: issuingNotAfter,
      publicKey: issuingKey.publicKey,
      signatureAlgorithm: algorithm,
      extensions: [
        ext.basicConstraints(true, 0),
        ext.keyUsage(['digitalSignature', 'keyCertSign', 'cRLSign']),
        ext.subjectKeyIdentifier(keyIdentifier(issuingKey.publicKey)),
        ext.authorityKeyIdentifier(rootSki),
        ext.authorityInfoAccess({ ocsp: [rootUrls.ocsp], caIssuers: [rootUrls.caIssuers] }),
        ext.crlDistributionPoints([rootUrls.crl]),
        ext.certificatePolicies([{ oid: '2.5.29.32.0' }]),
      ],
    },
    sign(rootSigner),
  );

  const rootRecord: CaRecord = {
    id: o.rootId,
    name: formatName(rootDn),
    role: 'root',
    parentId: null,
    keyRef: rootKey.ref,
    algorithm,
    certificate: rootCert,
    subjectKeyId: Buffer.from(rootSki).toString('hex'),
    status: 'active',
    createdAt: now,
  };
  // The issuing CA is itself a certificate the root answers for (CRL, OCSP).
  const issuingAsCertificate: CertificateRecord = {
    serial: serialToHex(issuingSerial),
    caId: o.rootId,
    profile: 'subca',
    status: 'active',
    subject: formatName(issuingDn),
    commonName: issuingDn.find((a) => a.type === 'CN')?.value ?? o.issuingId,
    organization: issuingDn.find((a) => a.type === 'O')?.value ?? null,
    email: null,
    notBefore: now,
    notAfter: issuingNotAfter,
    der: issuingCert,
    fingerprint: fingerprint(issuingCert),
    keySha256: sha256hex(issuingKey.publicKey),
    revokedAt: null,
    revocationReason: null,
    statusChangedAt: now,
    renewedFrom: null,
    replacedBy: null,
    createdAt: now,
  };
  const ceremonyEvent = {
    actor: o.actor,
    action: 'ca.ceremony',
    target: o.rootId,
    details: {
      root: { id: o.rootId, subject: formatName(rootDn), fingerprint: fingerprint(rootCert) },
      issuing: { id: o.issuingId, subject: formatName(issuingDn), fingerprint: fingerprint(issuingCert) },
      algorithm,
      backend: online.keys.kind,
      offlineRoot: offline ? offline.config.dataDir : false,
      demo: !!o.demo,
    },
  };

  if (offline) {
    const auditKey = await makeAuditKey(offline.keys, tag, o.keySpec, algorithm);
    await offline.store.transaction(async (tx) => {
      await tx.cas.insert(rootRecord);
      await tx.certificates.insert(issuingAsCertificate);
      await tx.settings.set('ca.default', o.rootId);
      await tx.settings.set('ca.offline-root', 'true');
      await tx.settings.set(AUDIT_KEY_SETTING, JSON.stringify(auditKey));
      await new AuditLog().append(tx, ceremonyEvent);
    });
    writeKeysSetting(offline.config);
  }
  const auditKey = await makeAuditKey(online.keys, tag, o.keySpec, algorithm);
  await online.store.transaction(async (tx) => {
    await tx.cas.insert(offline ? { ...rootRecord, keyRef: OFFLINE_KEY_REF } : rootRecord);
    await tx.cas.insert({
      id: o.issuingId,
      name: formatName(issuingDn),
      role: 'issuing',
      parentId: o.rootId,
      keyRef: issuingKey.ref,
      algorithm,
      certificate: issuingCert,
      subjectKeyId: Buffer.from(keyIdentifier(issuingKey.publicKey)).toString('hex'),
      status: 'active',
      createdAt: now,
    });
    await tx.certificates.insert(issuingAsCertificate);
    await tx.settings.set('ca.default', o.issuingId);
    await tx.settings.set(AUDIT_KEY_SETTING, JSON.stringify(auditKey));
    if (o.demo) await tx.settings.set('ca.demo', 'true');
    await new AuditLog().append(tx, ceremonyEvent);
  });
  writeKeysSetting(online.config);

  // The delegated service certificates go through the CA engine like any other.
  const authority = await CertificateAuthority.open(online.config, { store: online.store });
  const services: CeremonyResult['services'] = [];
  let presignedUntil: Date | undefined;
  try {
    if (offline) presignedUntil = await presign(authority, offline, o);
    for (const [name, subject] of [
      ['ocsp', o.ocspName],
      ['tsa', o.tsaName],
    ] as const) {
      const key = await online.keys.generateKey(`kyso-${name}-${tag}`, o.keySpec);
      const record = await authority.issueForKey({
        profile: name,
        subject,
        publicKey: key.publicKey,
        actor: o.actor,
      });
      await authority.transaction(async (tx) => {
        await tx.settings.set(
          `service.${name}`,
          JSON.stringify({ serial: record.serial, keyRef: key.ref, algorithm }),
        );
        await authority.audit.append(tx, {
          actor: o.actor,
          action: `service.${name}.key`,
          target: record.serial,
        });
      });
      services.push({
        name,
        serial: record.serial,
        subject: record.subject,
        fingerprint: record.fingerprint,
      });
    }
  } finally {
    await authority.close();
  }

  return {
    cas: [
      {
        id: o.rootId,
        role: 'root',
        subject: formatName(rootDn),
        fingerprint: fingerprint(rootCert),
        notAfter: rootNotAfter,
        dataDir: rootSide.config.dataDir,
      },
      {
        id: o.issuingId,
        role: 'issuing',
        subject: formatName(issuingDn),
        fingerprint: fingerprint(issuingCert),
        notAfter: issuingNotAfter,
        dataDir: online.config.dataDir,
      },
    ],
    services,
    passphraseFile: online.passphraseFile,
    rootPassphraseFile: offline?.passphraseFile,
    auditKey: auditKey.publicKey,
    presignedUntil,
  };
}

/** The root signs its first long-lived CRL and OCSP answers; the online directory takes them in. */
async function presign(online: CertificateAuthority, offline: Side, o: CeremonyOptions): Promise<Date> {
  const root = await CertificateAuthority.open(offline.config, { store: offline.store });
  try {
    const days = o.offlineRoot!.presignedDays;
    const crl = await presignRootCrl(root, { days, actor: o.actor });
    const answers = await presignRootOcsp(root, { days, actor: o.actor });
    for (const der of [crl.der, ...answers.map((a) => a.der)])
      await importRootStatus(online, der, { actor: o.actor });
    return crl.nextUpdate;
  } finally {
    await root.close();
  }
}

/** The audit key signs checkpoints of the audit chain; it lives beside the CA keys. */
async function makeAuditKey(
  keys: KeyBackend,
  tag: string,
  spec: KeySpec,
  algorithm: SignatureAlgorithm,
): Promise<AuditKeySetting> {
  const key = await keys.generateKey(`kyso-audit-${tag}`, spec);
  return { keyRef: key.ref, algorithm, publicKey: Buffer.from(key.publicKey).toString('base64') };
}

function sign(signer: Signer) {
  return (tbs: Uint8Array) => signer.sign(tbs);
}

function sha256hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Soft keys need a passphrase. With none configured, the ceremony makes one in
 * `<data>/secrets/` (mode 0600) so a first run works; the docs say to move it off the machine.
 */
function ensurePassphrase(config: Config): string | undefined {
  if (config.keys.backend !== 'soft') return undefined;
  const file = config.keys.passphrase.file;
  if (file !== defaultPassphraseFile(config.dataDir)) return undefined;
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return file;
}

/** Records the key backend and public URL in kyso.json, so later commands use the ceremony's choices. */
function writeKeysSetting(config: Config): void {
  const current: ConfigFile = existsSync(config.configFile) ? readConfigFile(config.configFile) : {};
  const keys: ConfigFile['keys'] =
    config.keys.backend === 'soft'
      ? { backend: 'soft' }
      : {
          backend: 'pkcs11',
          module: config.keys.module,
          tokenLabel: config.keys.tokenLabel,
          poolSize: config.keys.poolSize,
        };
  const next: ConfigFile = { ...current, publicUrl: current.publicUrl ?? config.publicUrl, keys };
  const tmp = `${config.configFile}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, config.configFile);
}
