import {
  bytesOf,
  children,
  contentOf,
  decodeDer,
  expectTag,
  readAscii,
  readOid,
  readString,
  TAG,
  type Tlv,
} from '../der.js';
import { STRING_TAGS } from '../name.js';
import { OID } from '../oids.js';

// Names as RFC 5280 §7.1 compares them: RDN by RDN in order, each RDN a set of attributes, string values
// after case folding and collapsing insignificant spaces, so a PrintableString and a UTF8String of the
// same text match; other values compare by their DER.

/** A distinguished name as comparable keys, one per RDN (its attributes sorted). */
export interface Name {
  rdns: string[];
  /** emailAddress attribute values, which name constraints treat as rfc822 names. */
  emails: string[];
}

/** A GeneralName as path validation reads it. */
export type AnyGeneralName =
  | { kind: 'rfc822' | 'dns' | 'uri'; value: string }
  | { kind: 'dn'; name: Name }
  | { kind: 'ip'; bytes: Uint8Array }
  | { kind: 'other'; tag: number };

/** LDAP string preparation, simplified: compatibility form, case folded, inner spaces collapsed. */
function prepared(text: string): string {
  return text.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
}

/** The comparable key of one RelativeDistinguishedName (a SET of attributes). */
export function rdnKey(buf: Uint8Array, rdn: Tlv, emails?: string[]): string {
  const avas = children(buf, rdn).map((atv) => {
    const [type, value] = children(buf, expectTag(atv, TAG.sequence, 'AttributeTypeAndValue'));
    const oid = readOid(contentOf(buf, expectTag(type, TAG.oid, 'attribute type')));
    if (!value) return `${oid}=`;
    if (STRING_TAGS.has(value.tag)) {
      const text = readString(buf, value);
      if (oid === OID.emailAddress) emails?.push(text);
      return `${oid}=${prepared(text)}`;
    }
    return `${oid}=#${Buffer.from(bytesOf(buf, value)).toString('hex')}`;
  });
  return avas.sort().join('+');
}

/** Reads a Name at a TLV. */
export function readNameAt(buf: Uint8Array, t: Tlv): Name {
  const emails: string[] = [];
  const rdns = children(buf, expectTag(t, TAG.sequence, 'Name')).map((rdn) =>
    rdnKey(buf, expectTag(rdn, TAG.set, 'RelativeDistinguishedName'), emails),
  );
  return { rdns, emails };
}

/** Reads a Name DER. */
export function readName(der: Uint8Array): Name {
  return readNameAt(der, decodeDer(der, der.length));
}

/** Whether two names are the same per RFC 5280 §7.1. */
export function sameName(a: Name, b: Name): boolean {
  return a.rdns.length === b.rdns.length && a.rdns.every((r, i) => r === b.rdns[i]);
}

/** Whether `name` lies in the subtree under `base` (base's RDNs are its first ones). */
export function nameWithin(name: Name, base: Name): boolean {
  return base.rdns.length <= name.rdns.length && base.rdns.every((r, i) => r === name.rdns[i]);
}

/** Reads one GeneralName. */
export function readGeneralName(buf: Uint8Array, t: Tlv): AnyGeneralName {
  const c = contentOf(buf, t);
  switch (t.tag) {
    case 0x81:
      return { kind: 'rfc822', value: readAscii(c) };
    case 0x82:
      return { kind: 'dns', value: readAscii(c) };
    case 0x86:
      return { kind: 'uri', value: readAscii(c) };
    case 0x87:
      return { kind: 'ip', bytes: c };
    case 0xa4: {
      const [name, extra] = children(buf, t);
      if (!name || extra) return { kind: 'other', tag: t.tag };
      return { kind: 'dn', name: readNameAt(buf, name) };
    }
    default:
      return { kind: 'other', tag: t.tag };
  }
}

/** Reads a GeneralNames SEQUENCE (or an implicitly tagged one). */
export function readGeneralNamesAt(buf: Uint8Array, t: Tlv): AnyGeneralName[] {
  return children(buf, t).map((n) => readGeneralName(buf, n));
}

/** Whether two GeneralNames name the same thing (distribution point and CRL issuer matching). */
export function sameGeneralName(a: AnyGeneralName, b: AnyGeneralName): boolean {
  if (a.kind === 'dn' && b.kind === 'dn') return sameName(a.name, b.name);
  if (a.kind === 'ip' && b.kind === 'ip') return Buffer.compare(a.bytes, b.bytes) === 0;
  if ((a.kind === 'rfc822' || a.kind === 'dns' || a.kind === 'uri') && a.kind === b.kind)
    return a.value === b.value;
  return false;
}
