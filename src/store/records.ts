/** What store/ hands out: plain records in the domain's names, not rows. Times are Dates. */

export type CertificateStatus = 'active' | 'hold' | 'revoked';

export interface CaRecord {
  id: string;
  name: string;
  role: 'root' | 'issuing';
  parentId: string | null;
  keyRef: string;
  algorithm: string;
  certificate: Uint8Array;
  subjectKeyId: string;
  status: 'active' | 'retired';
  createdAt: Date;
}

export interface CertificateRecord {
  serial: string;
  caId: string;
  profile: string;
  status: CertificateStatus;
  subject: string;
  commonName: string;
  organization: string | null;
  email: string | null;
  notBefore: Date;
  notAfter: Date;
  der: Uint8Array;
  fingerprint: string;
  keySha256: string;
  revokedAt: Date | null;
  revocationReason: string | null;
  statusChangedAt: Date;
  renewedFrom: string | null;
  replacedBy: string | null;
  createdAt: Date;
}

export interface CrlRecord {
  caId: string;
  number: number;
  deltaBase: number | null;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: number;
  der: Uint8Array;
  createdAt: Date;
}

/** One row a CRL is built from: a revoked or held certificate, or (in a delta) one released from hold. */
export interface RevokedEntry {
  serial: string;
  status: CertificateStatus;
  revokedAt: Date | null;
  reason: string | null;
  statusChangedAt: Date;
}

export interface AuditRecord {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  prevHash: string;
  hash: string;
}

export interface CertificateQuery {
  caId?: string;
  status?: CertificateStatus | 'expired';
  text?: string;
  organization?: string;
  profile?: string;
  now?: Date;
  limit?: number;
  offset?: number;
}

export interface OcspResponseRecord {
  certId: string;
  serial: string;
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  /** The certificate's status version the response was signed at. */
  statusVersion: number;
}

/** A certificate's revocation status as OCSP reports it; `version` counts its status changes. */
export interface CertificateStatusRecord {
  serial: string;
  caId: string;
  status: CertificateStatus;
  revokedAt: Date | null;
  reason: string | null;
  statusChangedAt: Date;
  version: number;
}
