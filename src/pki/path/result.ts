// The inputs and the outcome of certification path validation (RFC 5280 §6.1.1 and §6.1.6).

/** What a validation needs: the certificate, whom to trust, what else may help, and when. */
export interface PathValidationInput {
  /** The certificate to validate (DER). */
  target: Uint8Array;
  /** Trust anchors, as certificates (DER): their name, key and validity count, not their extensions. */
  anchors: Uint8Array[];
  /** Untrusted certificates that may build the path, in any order (DER). */
  intermediates: Uint8Array[];
  /** The validation time. */
  at: Date;
  /** CRLs (DER), complete or delta, from any issuer. */
  crls?: Uint8Array[];
  /** Check every certificate of the path against `crls`; a status they cannot tell makes the result indeterminate. */
  checkRevocation?: boolean;
  /** user-initial-policy-set; absent or empty means anyPolicy. */
  initialPolicies?: string[];
  /** initial-explicit-policy. */
  explicitPolicy?: boolean;
  /** initial-policy-mapping-inhibit. */
  inhibitPolicyMapping?: boolean;
  /** initial-any-policy-inhibit. */
  inhibitAnyPolicy?: boolean;
  /** Fetches the certificates an AIA caIssuers URL names, when the pool has no issuer; the caller does the I/O. */
  fetchIssuers?: (url: string) => Promise<Uint8Array[]>;
  /** keyUsage bits the target must have when it has a keyUsage extension (e.g. digitalSignature). */
  requiredKeyUsage?: (
    | 'digitalSignature'
    | 'nonRepudiation'
    | 'keyEncipherment'
    | 'keyCertSign'
    | 'cRLSign'
  )[];
  /** Accept SHA-1 signatures (PKITS's DSA keys sign with it); refused by default. */
  allowSha1?: boolean;
  /** Most CA certificates between the target and the anchor (default 10). */
  maxIntermediates?: number;
}

export type PathValidationStatus = 'valid' | 'invalid' | 'indeterminate';

/** Stable codes of the outcome, for programs; `reason` says it in English for people. */
export type PathValidationCode =
  | 'ok'
  | 'malformed-certificate'
  | 'bad-extension'
  | 'no-path'
  | 'bad-signature'
  | 'weak-algorithm'
  | 'expired'
  | 'not-yet-valid'
  | 'name-chaining'
  | 'not-a-ca'
  | 'path-length'
  | 'key-usage'
  | 'name-constraints'
  | 'policy'
  | 'policy-mapping'
  | 'unknown-critical-extension'
  | 'revoked'
  /** Revoked with certificateHold: RFC 5280 treats it as revoked; a caller may call it indeterminate. */
  | 'on-hold'
  | 'revocation-unknown';

/** The outcome: never a bare boolean. */
export interface PathValidationResult {
  status: PathValidationStatus;
  code: PathValidationCode;
  /** Why, in English; for a valid path a short summary. */
  reason: string;
  /** The path tried (leaf first, anchor last); for a failure, the best one found, possibly partial. */
  path: Uint8Array[];
  /** Policies the path is valid for (valid_policy values at the leaf), when a policy tree remains. */
  policies?: string[];
}

/** A failure inside path processing: the status, code and reason it turns into. */
export class PathFailure extends Error {
  constructor(
    readonly code: Exclude<PathValidationCode, 'ok'>,
    message: string,
    readonly status: 'invalid' | 'indeterminate' = 'invalid',
  ) {
    super(message);
    this.name = 'PathFailure';
  }
}
