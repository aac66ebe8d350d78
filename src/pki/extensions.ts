import { createHash } from 'node:crypto';
import { readSpki } from './algorithms.js';
import {
  asciiString,
  bitString,
  children,
  contentOf,
  DER_NULL,
  DER_TRUE,
  decodeDer,
  expectTag,
  explicit,
  implicit,
  integer,
  octetString,
  oid,
  readAscii,
  readBoolean,
  readInteger,
  readOid,
  sequence,
  TAG,
  type Tlv,
  tlvOf,
} from './der.js';
import { PkiError } from './errors.js';
import { OID } from './oids.js';

/** A certificate or CRL extension; value is the DER inside extnValue's OCTET STRING. */
export interface Extension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** A subjectAltName entry Kyso writes and reads. */
export type GeneralName = { type: 'email' | 'dns' | 'uri' | 'ip'; value: string };

const KEY_USAGE_BITS: Record<KeyUsageName, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

const GENERAL_NAME_TAGS = { email: 0x81, dns: 0x82, uri: 0x86, ip: 0x87 } as const;

/** Encodes an Extension SEQUENCE; DER omits critical when false. */
function encodeExtension(e: Extension): Uint8Array {
  return e.critical
    ? sequence(oid(e.oid), DER_TRUE, octetString(e.value))
    : sequence(oid(e.oid), octetString(e.value));
}

function badName(message: string): never {
  throw new PkiError('bad-name', message);
}

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function checkAscii(kind: string, value: string): void {
  if (!/^[\u0021-\u007e]+$/.test(value))
    badName(
      `${kind} "${value}" must be printable ASCII without spaces (internationalized domains as punycode)`,
    );
}

function checkDns(value: string): void {
  checkAscii('DNS name', value);
  if (value.length > 253) badName(`DNS name "${value}" is too long`);
  const labels = value.split('.');
  labels.forEach((label, i) => {
    if (!(DNS_LABEL.test(label) || (i === 0 && label === '*' && labels.length > 2)))
      badName(`"${value}" is not a DNS name`);
  });
}

function checkUri(value: string): string {
  checkAscii('URI', value);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) badName(`"${value}" is not an absolute URI`);
  return value;
}

/** Encodes one GeneralName, checking its syntax. */
function encodeGeneralName(name: GeneralName): Uint8Array {
  const { type, value } = name;
  switch (type) {
    case 'email': {
      checkAscii('e-mail address', value);
      const at = value.lastIndexOf('@');
      if (at < 1 || value.indexOf('@') !== at) badName(`"${value}" is not an e-mail address`);
      checkDns(value.slice(at + 1));
      break;
    }
    case 'dns':
      checkDns(value);
      break;
    case 'uri':
      checkUri(value);
      break;
    case 'ip':
      return implicit(7, parseIp(value));
    default:
      badName(`unsupported general name type ${String(type)}`);
  }
  return asciiString(GENERAL_NAME_TAGS[type], value);
}

/** Parses an IPv4 or IPv6 address to its 4 or 16 bytes. */
function parseIp(text: string): Uint8Array {
  const v4 = (s: string): number[] | undefined => {
    const parts = s.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256))
      return undefined;
    return parts.map(Number);
  };
  const four = v4(text);
  if (four) return Uint8Array.from(four);
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) badName(`"${text}" is not an IP address`);
  let head = text;
  let tail = '';
  const dc = text.indexOf('::');
  if (dc >= 0) {
    head = text.slice(0, dc);
    tail = text.slice(dc + 2);
    if (tail.includes('::')) badName(`"${text}" is not an IP address`);
  }
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    parts.forEach((p, i) => {
      if (i === parts.length - 1 && p.includes('.')) {
        const tail4 = v4(p);
        if (!tail4) badName(`"${text}" is not an IP address`);
        out.push((tail4[0] << 8) | tail4[1], (tail4[2] << 8) | tail4[3]);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else badName(`"${text}" is not an IP address`);
    });
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  const missing = 8 - h.length - t.length;
  if (dc >= 0 ? missing < 1 : missing !== 0) badName(`"${text}" is not an IP address`);
  const all = [...h, ...new Array<number>(missing).fill(0), ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function formatIp(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return `#${Buffer.from(b).toString('hex')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':');
}

/** Reads the email, DNS, URI and IP entries of a GeneralNames SEQUENCE, skipping other kinds. */
function readGeneralNames(buf: Uint8Array, names: Tlv): GeneralName[] {
  const out: GeneralName[] = [];
  for (const n of children(buf, names)) {
    const c = contentOf(buf, n);
    if (n.tag === 0x81) out.push({ type: 'email', value: readAscii(c) });
    else if (n.tag === 0x82) out.push({ type: 'dns', value: readAscii(c) });
    else if (n.tag === 0x86) out.push({ type: 'uri', value: readAscii(c) });
    else if (n.tag === 0x87) out.push({ type: 'ip', value: formatIp(c) });
  }
  return out;
}

const uris = (urls: string[]) =>
  tlvOf(
    0xa0,
    urls.map((value) => encodeGeneralName({ type: 'uri', value })),
  );

/** Encodes the Extensions SEQUENCE, refusing an OID twice (RFC 5280 §4.2). */
export function encodeExtensions(extensions: Extension[]): Uint8Array {
  const seen = new Set<string>();
  for (const e of extensions) {
    if (seen.has(e.oid)) throw new PkiError('bad-extension', `extension ${e.oid} appears twice`);
    seen.add(e.oid);
  }
  return sequence(...extensions.map(encodeExtension));
}

/** Reads an Extensions SEQUENCE, refusing duplicates. */
export function readExtensions(buf: Uint8Array, t: Tlv): Extension[] {
  const out: Extension[] = [];
  const seen = new Set<string>();
  for (const e of children(buf, expectTag(t, TAG.sequence, 'Extensions'))) {
    const fields = children(buf, expectTag(e, TAG.sequence, 'Extension'));
    const id = readOid(contentOf(buf, expectTag(fields[0], TAG.oid, 'extnID')));
    let i = 1;
    let critical = false;
    if (fields[i]?.tag === TAG.boolean) critical = readBoolean(contentOf(buf, fields[i++]));
    const value = contentOf(buf, expectTag(fields[i++], TAG.octetString, 'extnValue'));
    if (fields.length !== i) throw new PkiError('malformed-der', `extension ${id}: unexpected fields`);
    if (seen.has(id)) throw new PkiError('malformed-der', `extension ${id} appears twice`);
    seen.add(id);
    out.push({ oid: id, critical, value });
  }
  return out;
}

/** Reads the entries of a subjectAltName extension value. */
export function readSubjectAltName(value: Uint8Array): GeneralName[] {
  return readGeneralNames(value, expectTag(decodeDer(value, value.length), TAG.sequence, 'subjectAltName'));
}

/** A DistributionPoint with a fullName of URIs, shared by CRL distribution points and freshest CRL. */
export function distributionPoint(urls: string[]): Uint8Array {
  return sequence(explicit(0, uris(urls)));
}

function nonEmpty<T>(items: T[], what: string): T[] {
  if (items.length === 0) throw new PkiError('bad-extension', `${what} needs at least one entry`);
  return items;
}

/** Builders for the extensions Kyso writes into certificates. */
export const ext = {
  /** basicConstraints; pathLen only for a CA. */
  basicConstraints(ca: boolean, pathLen?: number, critical = true): Extension {
    if (pathLen !== undefined && (!ca || !Number.isInteger(pathLen) || pathLen < 0))
      throw new PkiError('bad-extension', 'pathLen needs ca=true and a non-negative integer');
    const fields = ca ? [DER_TRUE, ...(pathLen === undefined ? [] : [integer(pathLen)])] : [];
    return { oid: OID.basicConstraints, critical, value: sequence(...fields) };
  },

  /** keyUsage, always critical. */
  keyUsage(usages: KeyUsageName[]): Extension {
    let bits = 0;
    for (const u of nonEmpty(usages, 'keyUsage')) {
      const bit = KEY_USAGE_BITS[u];
      if (bit === undefined) throw new PkiError('bad-extension', `unknown key usage ${u}`);
      bits |= 1 << (15 - bit);
    }
    // DER: drop trailing zero bits.
    const last = 15 - Math.log2(bits & -bits);
    const bytes = last >= 8 ? Uint8Array.of(bits >> 8, bits & 0xff) : Uint8Array.of(bits >> 8);
    return { oid: OID.keyUsage, critical: true, value: bitString(bytes, 7 - (last % 8)) };
  },

  /** extendedKeyUsage. */
  extendedKeyUsage(oids: string[], critical = false): Extension {
    return {
      oid: OID.extKeyUsage,
      critical,
      value: sequence(...nonEmpty(oids, 'extendedKeyUsage').map(oid)),
    };
  },

  /** subjectKeyIdentifier. */
  subjectKeyIdentifier(keyId: Uint8Array): Extension {
    return { oid: OID.subjectKeyIdentifier, critical: false, value: octetString(keyId) };
  },

  /** authorityKeyIdentifier with the keyIdentifier field only. */
  authorityKeyIdentifier(keyId: Uint8Array): Extension {
    return { oid: OID.authorityKeyIdentifier, critical: false, value: sequence(implicit(0, keyId)) };
  },

  /** authorityInfoAccess with OCSP and CA-issuers URLs. */
  authorityInfoAccess(a: { ocsp?: string[]; caIssuers?: string[] }): Extension {
    const access = (method: string, urls: string[] = []) =>
      urls.map((value) => sequence(oid(method), encodeGeneralName({ type: 'uri', value })));
    const entries = [...access(OID.ocsp, a.ocsp), ...access(OID.caIssuers, a.caIssuers)];
    return {
      oid: OID.authorityInfoAccess,
      critical: false,
      value: sequence(...nonEmpty(entries, 'authorityInfoAccess')),
    };
  },

  /** cRLDistributionPoints: one distribution point whose fullName lists the URLs. */
  crlDistributionPoints(urls: string[]): Extension {
    return {
      oid: OID.crlDistributionPoints,
      critical: false,
      value: sequence(distributionPoint(nonEmpty(urls, 'cRLDistributionPoints'))),
    };
  },

  /** freshestCRL (where delta CRLs are), same syntax as cRLDistributionPoints. */
  freshestCrl(urls: string[]): Extension {
    return {
      oid: OID.freshestCrl,
      critical: false,
      value: sequence(distributionPoint(nonEmpty(urls, 'freshestCRL'))),
    };
  },

  /** certificatePolicies, each with an optional CPS URI qualifier. */
  certificatePolicies(policies: { oid: string; cps?: string }[]): Extension {
    const infos = nonEmpty(policies, 'certificatePolicies').map((p) =>
      p.cps === undefined
        ? sequence(oid(p.oid))
        : sequence(oid(p.oid), sequence(sequence(oid(OID.cps), asciiString(TAG.ia5String, checkUri(p.cps))))),
    );
    return { oid: OID.certificatePolicies, critical: false, value: sequence(...infos) };
  },

  /** subjectAltName; critical only when the subject is empty (RFC 5280 §4.2.1.6). */
  subjectAltName(names: GeneralName[], critical = false): Extension {
    return {
      oid: OID.subjectAltName,
      critical,
      value: sequence(...nonEmpty(names, 'subjectAltName').map(encodeGeneralName)),
    };
  },

  /** id-pkix-ocsp-nocheck, for OCSP responder certificates. */
  ocspNoCheck(): Extension {
    return { oid: OID.ocspNoCheck, critical: false, value: DER_NULL };
  },
};

/** The keyIdentifier of an authorityKeyIdentifier extension value, if it has one. */
export function readAuthorityKeyId(value: Uint8Array): Uint8Array | undefined {
  const fields = children(
    value,
    expectTag(decodeDer(value, value.length), TAG.sequence, 'authorityKeyIdentifier'),
  );
  const keyId = fields.find((x) => x.tag === 0x80);
  return keyId && contentOf(value, keyId);
}

/** RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  return Uint8Array.from(createHash('sha1').update(readSpki(spki).key).digest());
}

/** A basicConstraints extension value: cA (default false) and pathLenConstraint (capped at 1000). */
export function readBasicConstraints(value: Uint8Array): { ca: boolean; pathLen?: number } {
  const fields = children(value, expectTag(decodeDer(value, value.length), TAG.sequence, 'basicConstraints'));
  let i = 0;
  const ca = fields[i]?.tag === TAG.boolean ? readBoolean(contentOf(value, fields[i++])) : false;
  let pathLen: number | undefined;
  if (fields[i]?.tag === TAG.integer) {
    const n = readInteger(contentOf(value, fields[i++]));
    if (n < 0n) throw new PkiError('malformed-der', 'negative pathLenConstraint');
    pathLen = n > 1000n ? 1000 : Number(n);
  }
  if (i !== fields.length) throw new PkiError('malformed-der', 'unexpected fields in basicConstraints');
  return { ca, pathLen };
}
