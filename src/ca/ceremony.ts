import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AuditLog } from '../auth/index.js';
import { type Config, type ConfigFile, defaultPassphraseFile, readConfigFile } from '../config.js';
import type { KeyBackend, Signer } from '../keys/index.js';
import {
  buildCertificate,
  defaultSignatureAlgorithm,
  encodeName,
  ext,
  fingerprint,
  formatName,
  type KeySpec,
  keyIdentifier,
  parseName,
  randomSerial,
  serialToHex,
} from '../pki/index.js';
import { Store } from '../store/index.js';
import { CertificateAuthority, openConfiguredKeyBackend, publicUrls } from './authority.js';
import { CaError } from './errors.js';
import { wholeSecond } from './validity.js';

const DAY = 86_400_000;

export interface CeremonyOptions {
  rootName: string;
  issuingName: string;
  keySpec: KeySpec;
  rsaPadding: 'pss' | 'pkcs1';
  /** The root's validity: 20 years, the CA's own certificate under Decree 68 Art. 9. */
  rootDays: number;
  issuingDays: number;
  rootId: string;
  issuingId: string;
  /** Services whose delegated certificates the ceremony makes. */
  ocspName: string;
  tsaName: string;
  actor: string;
  /** Marks a CA made for trying Kyso out; `kyso serve` says so loudly. */
  demo?: boolean;
}

export interface CeremonyResult {
  cas: { id: string; role: 'root' | 'issuing'; subject: string; fingerprint: string; notAfter: Date }[];
  services: { name: 'ocsp' | 'tsa'; serial: string; subject: string; fingerprint: string }[];
  passphraseFile?: string;
}

/** Defaults for a ceremony: a Vietnamese-named root and issuing CA, ECDSA P-256. */
export function defaultCeremony(): CeremonyOptions {
  return {
    rootName: 'C=VN, O=Kyso, CN=Kyso Root CA',
    issuingName: 'C=VN, O=Kyso, CN=Kyso Issuing CA',
    keySpec: 'ec-p256',
    rsaPadding: 'pss',
    rootDays: 7305,
    issuingDays: 3653,
    rootId: 'root',
    issuingId: 'issuing',
    ocspName: 'C=VN, O=Kyso, CN=Kyso OCSP Responder',
    tsaName: 'C=VN, O=Kyso, CN=Kyso Time-Stamp Authority',
    actor: 'ceremony',
  };
}

const CA_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * The key ceremony: a self-issued root, an issuing CA under it, and the delegated OCSP and
 * time-stamp certificates, with keys made in the configured backend. It refuses an
 * initialized data directory.
 */
export async function runCeremony(config: Config, options: CeremonyOptions): Promise<CeremonyResult> {
  for (const id of [options.rootId, options.issuingId]) {
    if (!CA_ID.test(id))
      throw new CaError('unknown-ca', `a CA id is 1–32 lowercase letters, digits or hyphens, got "${id}"`);
  }
  if (options.rootId === options.issuingId)
    throw new CaError('unknown-ca', 'the root and issuing CA ids must differ');
  const rootDn = parseName(options.rootName);
  const issuingDn = parseName(options.issuingName);
  if (options.issuingDays > options.rootDays)
    throw new CaError('bad-validity', 'the issuing CA cannot outlive the root');

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await Store.open(config.database, { create: true });
  try {
    if (await store.settings.get('ca.default')) {
      throw new CaError(
        'already-initialized',
        `${config.dataDir} already holds a CA; the ceremony runs once per data directory`,
      );
    }
    const passphraseFile = ensurePassphrase(config);
    const keys = await openConfiguredKeyBackend(config);
    try {
      return await ceremony(config, options, store, keys, rootDn, issuingDn, passphraseFile);
    } finally {
      await keys.close();
    }
  } finally {
    await store.close();
  }
}

async function ceremony(
  config: Config,
  o: CeremonyOptions,
  store: Store,
  keys: KeyBackend,
  rootDn: ReturnType<typeof parseName>,
  issuingDn: ReturnType<typeof parseName>,
  passphraseFile: string | undefined,
): Promise<CeremonyResult> {
  const algorithm = defaultSignatureAlgorithm(o.keySpec, o.rsaPadding);
  const tag = randomBytes(4).toString('hex');
  const now = wholeSecond();

  const rootKey = await keys.generateKey(`kyso-${o.rootId}-${tag}`, o.keySpec);
  const rootSigner = await keys.signer(rootKey.ref, algorithm);
  const rootSubject = encodeName(rootDn);
  const rootSki = keyIdentifier(rootKey.publicKey);
  const rootCert = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: rootSubject,
      subject: rootSubject,
      notBefore: now,
      notAfter: new Date(now.getTime() + o.rootDays * DAY),
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

  const issuingKey = await keys.generateKey(`kyso-${o.issuingId}-${tag}`, o.keySpec);
  const rootUrls = publicUrls(config.publicUrl, o.rootId);
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

  const audit = new AuditLog();
  await store.transaction(async (tx) => {
    await tx.cas.insert({
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
    });
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
    // The issuing CA is itself a certificate the root answers for (CRL, OCSP).
    await tx.certificates.insert({
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
    });
    await tx.settings.set('ca.default', o.issuingId);
    if (o.demo) await tx.settings.set('ca.demo', 'true');
    await audit.append(tx, {
      actor: o.actor,
      action: 'ca.ceremony',
      target: o.rootId,
      details: {
        root: { id: o.rootId, subject: formatName(rootDn), fingerprint: fingerprint(rootCert) },
        issuing: { id: o.issuingId, subject: formatName(issuingDn), fingerprint: fingerprint(issuingCert) },
        algorithm,
        backend: keys.kind,
        demo: !!o.demo,
      },
    });
  });
  writeKeysSetting(config);

  // The delegated service certificates go through the CA engine like any other.
  const authority = await CertificateAuthority.open(config, { store });
  const services: CeremonyResult['services'] = [];
  try {
    for (const [name, subject] of [
      ['ocsp', o.ocspName],
      ['tsa', o.tsaName],
    ] as const) {
      const key = await keys.generateKey(`kyso-${name}-${tag}`, o.keySpec);
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
        notAfter: new Date(now.getTime() + o.rootDays * DAY),
      },
      {
        id: o.issuingId,
        role: 'issuing',
        subject: formatName(issuingDn),
        fingerprint: fingerprint(issuingCert),
        notAfter: issuingNotAfter,
      },
    ],
    services,
    passphraseFile,
  };
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
