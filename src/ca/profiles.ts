import type { ProfileOverride } from '../config.js';
import { type GeneralName, type KeySpec, type KeyUsageName, OID } from '../pki/index.js';
import { CaError } from './errors.js';

export type ProfileName = 'individual' | 'organization' | 'device' | 'tsa' | 'ocsp' | 'subca';

export const PROFILE_NAMES: readonly ProfileName[] = [
  'individual',
  'organization',
  'device',
  'tsa',
  'ocsp',
  'subca',
];

/** What a certificate of one kind must contain, and what a request for one may ask. */
export interface Profile {
  name: ProfileName;
  description: string;
  issuer: 'root' | 'issuing';
  keySpecs: KeySpec[];
  defaultValidityDays: number;
  maxValidityDays: number;
  maxRenewalDays: number;
  keyUsage: (spec: KeySpec) => KeyUsageName[];
  extendedKeyUsage: string[];
  ekuCritical: boolean;
  ca: boolean;
  pathLen?: number;
  ocspNoCheck: boolean;
  policies: string[];
  cps?: string;
  /** Subject alternative names this profile derives from the approved subject. */
  altNames: (subject: { email?: string; commonName: string }, requested: GeneralName[]) => GeneralName[];
}

const ALL_KEYS: KeySpec[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];
const YEAR = 365;
const signing = (): KeyUsageName[] => ['digitalSignature', 'nonRepudiation'];
const emailOnly = (s: { email?: string }): GeneralName[] =>
  s.email ? [{ type: 'email', value: s.email }] : [];
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const INDIVIDUAL: Profile = {
  name: 'individual',
  description: "a person's signing certificate (chứng thư số cá nhân)",
  issuer: 'issuing',
  keySpecs: ALL_KEYS,
  defaultValidityDays: 3 * YEAR,
  maxValidityDays: 5 * YEAR,
  maxRenewalDays: 3 * YEAR,
  keyUsage: signing,
  extendedKeyUsage: [
    OID.ekuDocumentSigning,
    OID.ekuMsDocumentSigning,
    OID.ekuEmailProtection,
    OID.ekuClientAuth,
  ],
  ekuCritical: false,
  ca: false,
  ocspNoCheck: false,
  policies: [],
  altNames: emailOnly,
};

const DEFAULTS: Record<ProfileName, Profile> = {
  individual: INDIVIDUAL,
  // The seal signs like a person does; it is held by the clerk and lives longer.
  organization: {
    ...INDIVIDUAL,
    name: 'organization',
    description: "an organization's seal certificate (chứng thư số của tổ chức)",
    defaultValidityDays: 5 * YEAR,
  },
  device: {
    name: 'device',
    description: 'a server, service or software (thiết bị, dịch vụ, phần mềm)',
    issuer: 'issuing',
    keySpecs: ALL_KEYS,
    defaultValidityDays: 3 * YEAR,
    maxValidityDays: 5 * YEAR,
    maxRenewalDays: 3 * YEAR,
    keyUsage: (spec) =>
      spec.startsWith('rsa') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature', 'keyAgreement'],
    extendedKeyUsage: [OID.ekuServerAuth, OID.ekuClientAuth],
    ekuCritical: false,
    ca: false,
    ocspNoCheck: false,
    policies: [],
    altNames: (s, requested) => {
      const names: GeneralName[] = requested.filter(
        (n) => n.type === 'dns' || n.type === 'ip' || n.type === 'uri',
      );
      if (
        HOSTNAME.test(s.commonName) &&
        !names.some((n) => n.type === 'dns' && n.value === s.commonName.toLowerCase())
      ) {
        names.unshift({ type: 'dns', value: s.commonName.toLowerCase() });
      }
      return [...names, ...emailOnly(s)];
    },
  },
  tsa: {
    name: 'tsa',
    description: 'a time-stamp authority (dịch vụ cấp dấu thời gian)',
    issuer: 'issuing',
    keySpecs: ALL_KEYS,
    defaultValidityDays: 6 * YEAR,
    maxValidityDays: 11 * YEAR,
    maxRenewalDays: 3 * YEAR,
    keyUsage: signing,
    extendedKeyUsage: [OID.ekuTimeStamping],
    ekuCritical: true,
    ca: false,
    ocspNoCheck: false,
    policies: [],
    altNames: () => [],
  },
  ocsp: {
    name: 'ocsp',
    description: 'a delegated OCSP responder (dịch vụ kiểm tra chứng thư số trực tuyến)',
    issuer: 'issuing',
    keySpecs: ALL_KEYS,
    defaultValidityDays: YEAR,
    maxValidityDays: 2 * YEAR,
    maxRenewalDays: YEAR,
    keyUsage: () => ['digitalSignature'],
    extendedKeyUsage: [OID.ekuOcspSigning],
    ekuCritical: false,
    ca: false,
    ocspNoCheck: true,
    policies: [],
    altNames: () => [],
  },
  subca: {
    name: 'subca',
    description: 'an issuing CA under the root (CA trung gian)',
    issuer: 'root',
    keySpecs: ALL_KEYS,
    defaultValidityDays: 10 * YEAR,
    maxValidityDays: 20 * YEAR,
    maxRenewalDays: 10 * YEAR,
    keyUsage: () => ['digitalSignature', 'keyCertSign', 'cRLSign'],
    extendedKeyUsage: [],
    ekuCritical: false,
    ca: true,
    pathLen: 0,
    ocspNoCheck: false,
    policies: [OID.anyPolicy],
    altNames: () => [],
  },
};

/** The profiles with the operator's overrides from kyso.json applied. */
export function resolveProfiles(overrides: Record<string, ProfileOverride>): Record<ProfileName, Profile> {
  const out = { ...DEFAULTS };
  for (const [name, o] of Object.entries(overrides)) {
    if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
      throw new CaError('unknown-profile', `kyso.json names an unknown profile "${name}"`);
    }
    const base = DEFAULTS[name as ProfileName];
    const merged: Profile = {
      ...base,
      keySpecs: o.keySpecs ?? base.keySpecs,
      maxValidityDays: o.maxValidityDays ?? base.maxValidityDays,
      maxRenewalDays: o.maxRenewalDays ?? base.maxRenewalDays,
      defaultValidityDays: Math.min(
        o.defaultValidityDays ?? base.defaultValidityDays,
        o.maxValidityDays ?? base.maxValidityDays,
      ),
      policies: o.policies ?? base.policies,
      cps: o.cps ?? base.cps,
    };
    out[name as ProfileName] = merged;
  }
  return out;
}

/** Looks a profile up by name, with a clear error for a typo. */
export function profileNamed(profiles: Record<ProfileName, Profile>, name: string): Profile {
  const p = profiles[name as ProfileName];
  if (!p)
    throw new CaError(
      'unknown-profile',
      `unknown profile "${name}"; choose one of ${PROFILE_NAMES.join(', ')}`,
    );
  return p;
}
