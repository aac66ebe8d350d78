import { CaError, type CertificateAuthority } from '../ca/index.js';
import { toPem } from '../pki/index.js';
import type { CertificateQuery, CertificateRecord, CrlRecord } from '../store/index.js';

/** A certificate as the public database shows it. */
export interface PublicCertificate {
  serial: string;
  caId: string;
  profile: string;
  status: 'active' | 'hold' | 'revoked' | 'expired';
  subject: string;
  commonName: string;
  organization: string | null;
  email: string | null;
  notBefore: string;
  notAfter: string;
  revokedAt: string | null;
  revocationReason: string | null;
  fingerprint: string;
  links: { cer: string; pem: string };
}

/**
 * The online certificate database (cơ sở dữ liệu về chứng thư số): search, details and
 * downloads of certificates, CA certificates and CRLs.
 */
export class Repository {
  // A CRL can be tens of megabytes: keep the newest of each kind and re-read it only when a newer one exists.
  private readonly crls = new Map<string, CrlRecord>();

  constructor(private readonly authority: CertificateAuthority) {}

  /** Searches by name, e-mail, organization or serial. */
  async search(query: Omit<CertificateQuery, 'caId'>): Promise<PublicCertificate[]> {
    const rows = await this.authority.search(query);
    return rows.map((r) => this.present(r));
  }

  /** One certificate by serial; CaError('unknown-certificate') when there is none. */
  certificate(serial: string): Promise<CertificateRecord> {
    return this.authority.get(serial);
  }

  /** The public view of a certificate record. */
  present(r: CertificateRecord, now = new Date()): PublicCertificate {
    const base = `${this.authority.config.publicUrl}/repository/certificates/${r.serial}`;
    return {
      serial: r.serial,
      caId: r.caId,
      profile: r.profile,
      status: r.status === 'active' && r.notAfter < now ? 'expired' : r.status,
      subject: r.subject,
      commonName: r.commonName,
      organization: r.organization,
      email: r.email,
      notBefore: r.notBefore.toISOString(),
      notAfter: r.notAfter.toISOString(),
      revokedAt: r.status === 'active' ? null : (r.revokedAt?.toISOString() ?? null),
      revocationReason: r.status === 'active' ? null : r.revocationReason,
      fingerprint: r.fingerprint,
      links: { cer: `${base}.cer`, pem: `${base}.pem` },
    };
  }

  /** A certificate as PEM text. */
  pem(r: CertificateRecord): string {
    return toPem('CERTIFICATE', r.der);
  }

  /** A CA's certificate (DER), for AIA caIssuers. */
  async caCertificate(caId: string): Promise<Uint8Array> {
    const ca = await this.authority.store.cas.get(caId);
    if (!ca) throw new CaError('unknown-ca', `unknown CA "${caId}"`);
    return ca.certificate;
  }

  /** The latest full or delta CRL of a CA. */
  async crl(caId: string, kind: 'full' | 'delta'): Promise<CrlRecord> {
    const key = `${caId}:${kind}`;
    const number = await this.authority.store.crls.latestNumber(caId, kind);
    if (number === undefined) throw new CaError('unknown-ca', `no ${kind} CRL for CA "${caId}" yet`);
    const cached = this.crls.get(key);
    if (cached?.number === number) return cached;
    const crl = await this.authority.store.crls.latest(caId, kind);
    if (!crl) throw new CaError('unknown-ca', `no ${kind} CRL for CA "${caId}" yet`);
    this.crls.set(key, crl);
    return crl;
  }
}
