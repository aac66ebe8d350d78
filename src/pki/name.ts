import {
  asciiString,
  bytesOf,
  children,
  contentOf,
  decodeDer,
  expectTag,
  oid,
  readOid,
  readString,
  sequence,
  setOf,
  TAG,
  type Tlv,
  utf8String,
} from './der.js';
import { PkiError, withCode } from './errors.js';

/** One attribute of a distinguished name: a short name (CN, O, …) or a dotted OID, and its value. */
export interface NameAttribute {
  type: string;
  value: string;
}

/** A distinguished name in encoding order (country first), one attribute per RDN. */
export type DistinguishedName = NameAttribute[];

interface AttributeType {
  oid: string;
  maxLength: number;
  encoding: 'utf8' | 'printable' | 'ia5';
}

const ATTRIBUTES: Record<string, AttributeType> = {
  C: { oid: '2.5.4.6', maxLength: 2, encoding: 'printable' },
  ST: { oid: '2.5.4.8', maxLength: 128, encoding: 'utf8' },
  L: { oid: '2.5.4.7', maxLength: 128, encoding: 'utf8' },
  O: { oid: '2.5.4.10', maxLength: 128, encoding: 'utf8' },
  OU: { oid: '2.5.4.11', maxLength: 128, encoding: 'utf8' },
  CN: { oid: '2.5.4.3', maxLength: 128, encoding: 'utf8' },
  E: { oid: '1.2.840.113549.1.9.1', maxLength: 255, encoding: 'ia5' },
  SERIALNUMBER: { oid: '2.5.4.5', maxLength: 64, encoding: 'printable' },
  UID: { oid: '0.9.2342.19200300.100.1.1', maxLength: 256, encoding: 'utf8' },
  T: { oid: '2.5.4.12', maxLength: 64, encoding: 'utf8' },
  GIVENNAME: { oid: '2.5.4.42', maxLength: 128, encoding: 'utf8' },
  SURNAME: { oid: '2.5.4.4', maxLength: 128, encoding: 'utf8' },
  DC: { oid: '0.9.2342.19200300.100.1.25', maxLength: 63, encoding: 'ia5' },
};

// Spellings OpenSSL and RFC 4514 also use.
const ALIASES: Record<string, string> = { EMAILADDRESS: 'E', TITLE: 'T', G: 'GIVENNAME', STREET: '2.5.4.9' };

const SHORT_BY_OID: Record<string, string> = Object.fromEntries(
  Object.entries(ATTRIBUTES).map(([short, a]) => [a.oid, short]),
);

const MAX_OTHER_LENGTH = 256;
const MAX_NAME_BYTES = 16 * 1024;
const DOTTED = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const IA5 = /^[\u0000-\u007f]*$/;

function badName(message: string): never {
  throw new PkiError('bad-name', message);
}

/** Resolves a type as written (any case, or a dotted OID) to its canonical short name or OID. */
function canonicalType(type: string): string {
  const t = type.trim();
  if (DOTTED.test(t)) return SHORT_BY_OID[t] ?? t;
  const upper = t.toUpperCase();
  const resolved = ALIASES[upper] ?? upper;
  if (ATTRIBUTES[resolved] || DOTTED.test(resolved)) return resolved;
  return badName(
    `unknown attribute type "${t}" (use C, ST, L, O, OU, CN, E, SERIALNUMBER, UID, T, GIVENNAME, SURNAME, DC or an OID)`,
  );
}

/** Checks one attribute and returns it in canonical form. */
function checkAttribute(a: NameAttribute): NameAttribute {
  const type = canonicalType(a.type);
  const value = a.value;
  if (CONTROL.test(value)) throw new PkiError('control-characters', `${type} contains control characters`);
  if (value.length === 0) badName(`${type} is empty`);
  const def = ATTRIBUTES[type];
  const length = [...value].length;
  const max = def?.maxLength ?? MAX_OTHER_LENGTH;
  if (type === 'C') {
    if (!/^[A-Za-z]{2}$/.test(value)) badName(`C must be a two-letter country code, not "${value}"`);
    return { type, value: value.toUpperCase() };
  }
  if (length > max) badName(`${type} is ${length} characters long; at most ${max} are allowed`);
  if (def?.encoding === 'printable' && !PRINTABLE.test(value))
    badName(`${type} may contain only letters, digits, spaces and ' ( ) + , - . / : = ?`);
  if (def?.encoding === 'ia5' && !IA5.test(value)) badName(`${type} must be ASCII`);
  return { type, value };
}

/** Parses "/C=VN/O=…/CN=…" or "C=VN, O=…, CN=…" (or RFC 4514 order ending in C=) into encoding order. */
export function parseName(text: string): DistinguishedName {
  if (CONTROL.test(text)) throw new PkiError('control-characters', 'the name contains control characters');
  // Values trim their own unescaped spaces; trimming the end here would break a final '\ '.
  const trimmed = text.trimStart();
  if (trimmed === '') badName('the name is empty');
  const slash = trimmed.startsWith('/');
  const parts = splitUnescaped(slash ? trimmed.slice(1) : trimmed, slash ? '/' : ',');
  const dn = parts.map((part) => {
    const eq = indexOfUnescaped(part, '=');
    if (eq < 0) badName(`"${part.trim()}" is not TYPE=value`);
    const rawValue = part.slice(eq + 1);
    if (!slash && indexOfUnescaped(rawValue, '+') >= 0)
      badName(`"${part.trim()}": multi-valued RDNs are not supported (escape '+' as '\\+')`);
    const value = unescapeValue(rawValue).normalize('NFC');
    return checkAttribute({ type: part.slice(0, eq), value });
  });
  if (!slash && dn.length > 1 && dn[dn.length - 1].type === 'C' && dn[0].type !== 'C') dn.reverse();
  return dn;
}

function indexOfUnescaped(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

const HEX_PAIR = /^[0-9a-fA-F]{2}$/;

/** Removes unescaped surrounding spaces and resolves backslash escapes (\, and \C3\A0 hex UTF-8). */
function unescapeValue(raw: string): string {
  let s = raw.replace(/^ +/, '');
  // Keep a trailing space that is escaped.
  let end = s.length;
  while (end > 0 && s[end - 1] === ' ' && !isEscaped(s, end - 1)) end--;
  s = s.slice(0, end);
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      badName('hex escapes are not valid UTF-8');
    }
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      flush();
      out += s[i];
      continue;
    }
    if (i + 1 >= s.length) badName('a value ends with a lone backslash');
    if (HEX_PAIR.test(s.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      flush();
      out += s[++i];
    }
  }
  flush();
  return out;
}

function isEscaped(s: string, i: number): boolean {
  let n = 0;
  for (let j = i - 1; j >= 0 && s[j] === '\\'; j--) n++;
  return n % 2 === 1;
}

/** Formats a name as "C=VN, L=Hà Nội, O=…, CN=…" in encoding order, backslash-escaping special characters. */
export function formatName(dn: DistinguishedName): string {
  return dn.map((a) => `${a.type}=${escapeValue(a.value)}`).join(', ');
}

function escapeValue(value: string): string {
  let s = value.replace(/[,+\\=]/g, '\\$&');
  // Control characters as hex, so a name read from a foreign certificate is safe to print.
  s = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `\\${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
  if (s.startsWith(' ') || s.startsWith('#')) s = `\\${s}`;
  if (s.endsWith(' ') && s.length > 1) s = `${s.slice(0, -1)}\\ `;
  return s;
}

/** Encodes a name: C, SERIALNUMBER as PrintableString, E and DC as IA5String, the rest as UTF8String. */
export function encodeName(dn: DistinguishedName): Uint8Array {
  return sequence(
    ...dn.map((raw) => {
      const a = checkAttribute(raw);
      const def = ATTRIBUTES[a.type];
      const value =
        def?.encoding === 'printable'
          ? asciiString(TAG.printableString, a.value)
          : def?.encoding === 'ia5'
            ? asciiString(TAG.ia5String, a.value)
            : utf8String(a.value);
      return setOf([sequence(oid(def?.oid ?? a.type), value)]);
    }),
  );
}

/** Decodes a Name DER; multi-valued RDNs are flattened, unknown value types become "#<hex DER>". */
export function decodeName(der: Uint8Array): DistinguishedName {
  return withCode('bad-name', 'Name', () => readName(der, decodeDer(der, MAX_NAME_BYTES)));
}

/** Decodes a Name at a TLV inside a larger buffer. */
export function readName(buf: Uint8Array, name: Tlv | undefined): DistinguishedName {
  const dn: DistinguishedName = [];
  for (const rdn of children(buf, expectTag(name, TAG.sequence, 'Name'))) {
    const attributes = children(buf, expectTag(rdn, TAG.set, 'RelativeDistinguishedName'));
    if (attributes.length === 0) throw new PkiError('malformed-der', 'empty RelativeDistinguishedName');
    for (const atv of attributes) {
      const [type, value, extra] = children(buf, expectTag(atv, TAG.sequence, 'AttributeTypeAndValue'));
      const dotted = readOid(contentOf(buf, expectTag(type, TAG.oid, 'attribute type')));
      if (!value || extra) throw new PkiError('malformed-der', 'bad AttributeTypeAndValue');
      let text: string;
      try {
        text = readString(buf, value);
      } catch (e) {
        if (!(e instanceof PkiError) || value.tag & 0x20 || STRING_TAGS.has(value.tag)) throw e;
        text = `#${Buffer.from(bytesOf(buf, value)).toString('hex')}`;
      }
      dn.push({ type: SHORT_BY_OID[dotted] ?? dotted, value: text });
    }
  }
  return dn;
}

/** The ASN.1 string types a directory attribute value may take. */
export const STRING_TAGS = new Set<number>([
  TAG.utf8String,
  TAG.printableString,
  TAG.ia5String,
  TAG.teletexString,
  TAG.bmpString,
  TAG.universalString,
  TAG.numericString,
  TAG.visibleString,
]);
