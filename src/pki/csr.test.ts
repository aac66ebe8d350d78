import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool as run } from '../../test/support/keys.js';
import { describeKey, keySpecOf } from './algorithms.js';
import { parseCsr } from './csr.js';
import { PkiError } from './errors.js';
import { formatName } from './name.js';
import { fromPem, toPem } from './pem.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kyso-pki-csr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SUBJECT = '/C=VN/L=Hà Nội/O=Bộ Tài chính/OU=Cục Thuế/CN=Trần Thị B/emailAddress=ttb@gdt.gov.vn';

/** Makes a request with `openssl req` and returns its PEM text. */
async function opensslCsr(name: string, keyArgs: string[], extra: string[] = []): Promise<string> {
  const out = join(dir, `${name}.csr`);
  const r = await run('openssl', [
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    out,
    '-utf8',
    '-subj',
    SUBJECT,
    '-addext',
    'subjectAltName=email:ttb@gdt.gov.vn,email:b@gdt.gov.vn,DNS:ttb.gdt.gov.vn,IP:10.1.2.3',
    ...extra,
  ]);
  expect(r.code, r.out).toBe(0);
  return readFile(out, 'utf8');
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PkiError);
    return (e as PkiError).code;
  }
  return undefined;
};

describe('parseCsr with requests from openssl req', () => {
  it.each([
    ['EC P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-sha256'], 'ec-p256'],
    ['EC P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384'], 'ec-p384'],
    ['RSA 2048 PKCS#1 v1.5', ['-newkey', 'rsa:2048', '-sha256'], 'rsa-2048'],
    [
      'RSA 2048 PSS',
      [
        '-newkey',
        'rsa:2048',
        '-sha256',
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        'rsa_pss_saltlen:digest',
      ],
      'rsa-2048',
    ],
    [
      'RSA 2048 PSS with SHA-384 and a short salt',
      ['-newkey', 'rsa:2048', '-sha384', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:20'],
      'rsa-2048',
    ],
  ])('accepts %s', async (name, keyArgs, spec) => {
    const pem = await opensslCsr(name.replace(/\W+/g, '-'), keyArgs);
    for (const input of [pem, Buffer.from(pem), fromPem(pem)[0]]) {
      const csr = parseCsr(input);
      expect(formatName(csr.subject)).toBe(
        'C=VN, L=Hà Nội, O=Bộ Tài chính, OU=Cục Thuế, CN=Trần Thị B, E=ttb@gdt.gov.vn',
      );
      expect(keySpecOf(csr.publicKey)).toBe(spec);
      expect(csr.emails).toEqual(['ttb@gdt.gov.vn', 'b@gdt.gov.vn']);
      expect(csr.dnsNames).toEqual(['ttb.gdt.gov.vn']);
      expect(csr.der).toEqual(fromPem(pem)[0]);
    }
  });

  it('accepts a request without extensions and a P-521 key it does not issue for', async () => {
    const out = join(dir, 'plain.csr');
    const r = await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-521',
      '-nodes',
      '-keyout',
      join(dir, 'plain.key'),
      '-out',
      out,
      '-subj',
      '/CN=plain',
    ]);
    expect(r.code).toBe(0);
    const csr = parseCsr(await readFile(out, 'utf8'));
    expect(csr.emails).toEqual([]);
    expect(csr.dnsNames).toEqual([]);
    expect(describeKey(csr.publicKey)).toEqual({ kind: 'ec', curve: 'P-521' });
    expect(keySpecOf(csr.publicKey)).toBeUndefined();
  });

  it('rejects a request whose signature has a flipped byte', async () => {
    const der = fromPem(
      await opensslCsr('flip', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    )[0];
    const bad = Uint8Array.from(der);
    bad[bad.length - 5] ^= 0x01;
    expect(code(() => parseCsr(bad))).toBe('csr-signature-invalid');
    expect(code(() => parseCsr(toPem('CERTIFICATE REQUEST', bad)))).toBe('csr-signature-invalid');
  });

  it('rejects a request whose subject was changed after signing', async () => {
    const der = fromPem(await opensslCsr('subject', ['-newkey', 'rsa:2048']))[0];
    const text = Buffer.from(der);
    const at = text.indexOf('Trần');
    text[at] = 'X'.charCodeAt(0);
    expect(code(() => parseCsr(new Uint8Array(text)))).toBe('csr-signature-invalid');
  });

  it('rejects truncated, garbage and oversized input', async () => {
    const pem = await opensslCsr('bounds', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const der = fromPem(pem)[0];
    expect(code(() => parseCsr(der.subarray(0, der.length - 10)))).toBe('malformed-csr');
    expect(code(() => parseCsr(der.subarray(0, 40)))).toBe('malformed-csr');
    expect(code(() => parseCsr(Uint8Array.of(0x30, 0x80, 0, 0)))).toBe('malformed-csr');
    expect(code(() => parseCsr(Buffer.from('hello, I would like a certificate')))).toBe('malformed-csr');
    expect(code(() => parseCsr(''))).toBe('malformed-csr');
    expect(
      code(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n')),
    ).toBe('malformed-csr');
    expect(code(() => parseCsr(toPem('CERTIFICATE', der)))).toBe('malformed-csr');
    expect(code(() => parseCsr(der, 100))).toBe('csr-too-large');
    expect(code(() => parseCsr(pem, 100))).toBe('csr-too-large');
    const huge = new Uint8Array(70 * 1024);
    huge[0] = 0x30;
    expect(code(() => parseCsr(huge))).toBe('csr-too-large');
    expect(code(() => parseCsr(toPem('CERTIFICATE REQUEST', huge)))).toBe('csr-too-large');
  });
});
