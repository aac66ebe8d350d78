import { PkiError } from './errors.js';

/** Wraps DER in PEM with 64-character lines and a trailing newline. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----([^-]*)-----END ([A-Z0-9 ]{1,64})-----/g;

/** Decodes every PEM block in text (only those with the given label, if set); PkiError if there is none. */
export function fromPem(text: string, label?: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (m[1] !== m[3]) throw new PkiError('malformed-pem', `BEGIN ${m[1]} closed by END ${m[3]}`);
    if (label !== undefined && m[1] !== label) continue;
    const b64 = m[2].replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0)
      throw new PkiError('malformed-pem', `${m[1]} block is not valid base64`);
    out.push(Uint8Array.from(Buffer.from(b64, 'base64')));
  }
  if (out.length === 0)
    throw new PkiError('pem-not-found', label ? `no ${label} PEM block found` : 'no PEM block found');
  return out;
}
