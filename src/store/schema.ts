import type { Generated } from 'kysely';

/** Times are milliseconds since the epoch (int8 in PostgreSQL); binary columns are DER. */
export interface CaTable {
  id: string;
  name: string;
  role: 'root' | 'issuing';
  parent_id: string | null;
  key_ref: string;
  algorithm: string;
  certificate: Uint8Array;
  subject_key_id: string;
  status: 'active' | 'retired';
  created_at: number;
}

export interface CertificateTable {
  serial: string;
  ca_id: string;
  profile: string;
  status: 'active' | 'hold' | 'revoked';
  subject: string;
  common_name: string;
  organization: string | null;
  email: string | null;
  not_before: number;
  not_after: number;
  der: Uint8Array;
  fingerprint: string;
  key_sha256: string;
  revoked_at: number | null;
  revocation_reason: string | null;
  status_changed_at: number;
  /** Counts status changes: what a stored OCSP answer is checked against. */
  status_version: Generated<number>;
  /** searchKey(common_name) and searchKey(organization): what search compares with. */
  search_name: string | null;
  search_org: string | null;
  renewed_from: string | null;
  replaced_by: string | null;
  created_at: number;
}

export interface CrlTable {
  ca_id: string;
  number: number;
  delta_base: number | null;
  this_update: number;
  next_update: number;
  entries: number;
  der: Uint8Array;
  created_at: number;
}

export interface AuditTable {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface SettingTable {
  key: string;
  value: string;
}

/** Pre-signed, nonce-less OCSP responses, keyed by the request's CertID (hex of its DER). */
export interface OcspResponseTable {
  cert_id: string;
  serial: string;
  der: Uint8Array;
  this_update: number;
  next_update: number;
  /** The certificate's status_version the answer was signed at; any other means stale. */
  status_version: number;
}

/** Status, CA and service-certificate changes in commit order, written by triggers (change-feed-migration.ts). */
export interface ChangeFeedTable {
  id: number;
  kind: 'status' | 'ca' | 'service';
  /** The serial, the CA id or the setting's key. */
  subject: string;
  ca_id: string | null;
  status: 'active' | 'hold' | 'revoked' | null;
}

/** Who holds a named lease (one node at a time runs a job), until when in the database's clock. */
export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface Database {
  change_feed: ChangeFeedTable;
  leases: LeaseTable;
  ocsp_responses: OcspResponseTable;
  cas: CaTable;
  certificates: CertificateTable;
  crls: CrlTable;
  audit_log: AuditTable;
  audit_head: AuditHeadTable;
  settings: SettingTable;
}
