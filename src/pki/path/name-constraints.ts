import type { PathCertificate, Subtree } from './certificate.js';
import { type AnyGeneralName, nameWithin } from './names.js';

// Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)(c), §6.1.4 (g)). The permitted subtrees are kept as
// one list per constraining certificate: a name must fall in one subtree of each list that constrains
// its type, which is exactly the intersection §6.1.4 (g)(1) computes. Excluded subtrees are a union.

type Kind = 'dn' | 'rfc822' | 'dns' | 'uri' | 'ip';

/** The permitted and excluded subtrees in force at one point of the path. */
export class NameConstraints {
  private readonly permitted: Subtree[][] = [];
  private readonly excluded: Subtree[] = [];

  /** §6.1.4 (g): adds a CA certificate's nameConstraints. */
  add(cert: PathCertificate): void {
    if (cert.permittedSubtrees) this.permitted.push(cert.permittedSubtrees);
    if (cert.excludedSubtrees) this.excluded.push(...cert.excludedSubtrees);
  }

  /** §6.1.3 (b)(c): the first name of the certificate that the constraints refuse, or undefined. */
  violation(cert: PathCertificate): string | undefined {
    const names: AnyGeneralName[] = [...cert.altNames];
    if (cert.subject.rdns.length > 0) names.push({ kind: 'dn', name: cert.subject });
    // With no rfc822Name in subjectAltName, emailAddress attributes of the subject are checked as such.
    if (!cert.altNames.some((n) => n.kind === 'rfc822'))
      for (const email of cert.subject.emails) names.push({ kind: 'rfc822', value: email });
    for (const name of names) {
      if (name.kind === 'other') continue;
      for (const list of this.permitted) {
        const ofKind = list.filter((s) => s.kind === name.kind);
        if (ofKind.length > 0 && !ofKind.some((s) => within(name, s)))
          return `${describe(name)} is outside the permitted subtrees`;
      }
      const hit = this.excluded.find((s) => s.kind === name.kind && within(name, s));
      if (hit) return `${describe(name)} is within an excluded subtree`;
    }
    return undefined;
  }
}

function describe(n: AnyGeneralName): string {
  switch (n.kind) {
    case 'dn':
      return 'the subject name';
    case 'ip':
      return 'an IP address';
    case 'other':
      return 'a name';
    default:
      return `${n.kind} name "${n.value}"`;
  }
}

const lower = (s: string) => s.toLowerCase();

/** Whether a DNS name is `base` or below it (an empty base matches every name). */
function dnsWithin(name: string, base: string): boolean {
  const n = lower(name).replace(/\.$/, '');
  const b = lower(base).replace(/\.$/, '');
  if (b === '') return true;
  if (b.startsWith('.')) return n.endsWith(b);
  return n === b || n.endsWith(`.${b}`);
}

/** rfc822 constraints: a mailbox, all mailboxes at a host, or (with a leading dot) any host in a domain. */
function mailWithin(name: string, base: string): boolean {
  const at = name.lastIndexOf('@');
  if (at < 0) return false;
  const host = lower(name.slice(at + 1));
  if (base.includes('@')) {
    const bat = base.lastIndexOf('@');
    return name.slice(0, at) === base.slice(0, bat) && host === lower(base.slice(bat + 1));
  }
  if (base.startsWith('.')) return host.endsWith(lower(base));
  return host === lower(base);
}

/** The host of a URI with an authority, or undefined. */
function uriHost(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(uri);
  return m?.[1] || undefined;
}

function uriWithin(name: string, base: string): boolean {
  const host = uriHost(name);
  if (!host) return false;
  if (base.startsWith('.')) return lower(host).endsWith(lower(base));
  return lower(host) === lower(base);
}

function ipWithin(name: Uint8Array, base: Uint8Array): boolean {
  const half = base.length / 2;
  if (name.length !== half || !Number.isInteger(half)) return false;
  for (let i = 0; i < half; i++) if ((name[i] & base[half + i]) !== (base[i] & base[half + i])) return false;
  return true;
}

function within(name: Exclude<AnyGeneralName, { kind: 'other' }>, base: Subtree): boolean {
  const kind: Kind = name.kind;
  if (base.kind !== kind) return false;
  if (name.kind === 'dn' && base.kind === 'dn') return nameWithin(name.name, base.name);
  if (name.kind === 'ip' && base.kind === 'ip') return ipWithin(name.bytes, base.bytes);
  if (name.kind === 'dns' && base.kind === 'dns') return dnsWithin(name.value, base.value);
  if (name.kind === 'rfc822' && base.kind === 'rfc822') return mailWithin(name.value, base.value);
  if (name.kind === 'uri' && base.kind === 'uri') return uriWithin(name.value, base.value);
  return false;
}
