import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool as run } from '../../test/support/keys.js';
import { buildCertificate, parseCertificate } from './certificate.js';
import { buildCrl, type CrlEntry, type CrlTemplate, parseCrl } from './crl.js';
import { ext, keyIdentifier } from './extensions.js';
import { encodeName, parseName } from './name.js';
import { toPem } from './pem.js';
import { randomSerial, serialFromHex } from './serial.js';

const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const caKey = {
  spki: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
  privateKey: pair.privateKey,
};
const signWith = (key: KeyObject) => async (data: Uint8Array) => new Uint8Array(sign('sha256', data, key));
const caSign = signWith(caKey.privateKey);
const caName = encodeName(parseName('C=VN, O=Kyso thử nghiệm, CN=Kyso Test CA'));
const DAY = 86_400_000;

let dir: string;
const file = (name: string) => join(dir, name);
const leaves: { der: Uint8Array; serial: Uint8Array }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kyso-pki-crl-'));
  const now = Date.now();
  const base = {
    issuer: caName,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    signatureAlgorithm: 'ECDSA-SHA256' as const,
  };
  const caDer = await buildCertificate(
    {
      ...base,
      serial: randomSerial(),
      subject: caName,
      publicKey: caKey.spki,
      extensions: [
        ext.basicConstraints(true),
        ext.keyUsage(['keyCertSign', 'cRLSign']),
        ext.subjectKeyIdentifier(keyIdentifier(caKey.spki)),
      ],
    },
    caSign,
  );
  await writeFile(file('ca.pem'), toPem('CERTIFICATE', caDer));
  for (const name of ['revoked', 'good']) {
    const leafPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = new Uint8Array(leafPair.publicKey.export({ type: 'spki', format: 'der' }));
    const der = await buildCertificate(
      {
        ...base,
        serial: randomSerial(),
        subject: parseName(`C=VN, CN=${name}`),
        publicKey: spki,
        extensions: [
          ext.basicConstraints(false),
          ext.keyUsage(['digitalSignature']),
          ext.authorityKeyIdentifier(keyIdentifier(caKey.spki)),
        ],
      },
      caSign,
    );
    await writeFile(file(`${name}.pem`), toPem('CERTIFICATE', der));
    leaves.push({ der, serial: parseCertificate(der).serial });
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function template(change: Partial<CrlTemplate> = {}): CrlTemplate {
  const now = Date.now();
  return {
    issuer: caName,
    thisUpdate: new Date(now - 60_000),
    nextUpdate: new Date(now + 7 * DAY),
    number: 42n,
    signatureAlgorithm: 'ECDSA-SHA256',
    authorityKeyId: keyIdentifier(caKey.spki),
    ...change,
  };
}

describe('buildCrl', () => {
  it('makes a CRL that openssl verifies and lists, with reason codes', async () => {
    const revokedAt = new Date('2026-03-04T05:06:07Z');
    const entries: CrlEntry[] = [
      { serial: leaves[0].serial, revokedAt, reason: 'keyCompromise' },
      { serial: serialFromHex('8F'), revokedAt, reason: 'unspecified' },
      { serial: serialFromHex('0102'), revokedAt: new Date('2055-01-01T00:00:00Z') },
      { serial: serialFromHex('03'), revokedAt, reason: 'certificateHold' },
      { serial: serialFromHex('04'), revokedAt, reason: 'aACompromise' },
    ];
    const der = await buildCrl(template({ freshestCrl: 'http://ca.kyso.test/delta.crl' }), entries, caSign);
    await writeFile(file('full.crl'), der);
    const r = await run('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      file('full.crl'),
      '-text',
      '-noout',
      '-CAfile',
      file('ca.pem'),
      '-verify',
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('verify OK');
    expect(r.out).toContain('Version 2 (0x1)');
    expect(r.out).toMatch(/CRL Number:\s+42/);
    expect(r.out).toMatch(/Freshest CRL:\s+Full Name:\s+URI:http:\/\/ca\.kyso\.test\/delta\.crl/);
    const serials = [...r.out.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]);
    expect(serials).toEqual([parseCertificate(leaves[0].der).serialHex, '8F', '0102', '03', '04']);
    expect(r.out).toContain('Key Compromise');
    expect(r.out).toContain('Certificate Hold');
    expect(r.out).toContain('AA Compromise');
    expect(r.out).not.toContain('Unspecified');
    expect(r.out).toContain('Revocation Date: Jan  1 00:00:00 2055 GMT');

    const parsed = parseCrl(der);
    expect(parsed.number).toBe(42n);
    expect(parsed.deltaBase).toBeUndefined();
    expect(parsed.issuerDer).toEqual(caName);
    expect(parsed.authorityKeyId).toEqual(keyIdentifier(caKey.spki));
    expect(parsed.entries.map((e) => [e.serialHex, e.reason])).toEqual([
      [parseCertificate(leaves[0].der).serialHex, 'keyCompromise'],
      ['8F', undefined],
      ['0102', undefined],
      ['03', 'certificateHold'],
      ['04', 'aACompromise'],
    ]);
    expect(parsed.entries[0].revokedAt).toEqual(revokedAt);
  });

  it('makes openssl verify -crl_check reject the revoked certificate and accept the other', async () => {
    const der = await buildCrl(
      template(),
      [{ serial: leaves[0].serial, revokedAt: new Date(), reason: 'superseded' }],
      caSign,
    );
    await writeFile(file('check.crl.pem'), toPem('X509 CRL', der));
    const verify = (leaf: string) =>
      run('openssl', [
        'verify',
        '-crl_check',
        '-CRLfile',
        file('check.crl.pem'),
        '-CAfile',
        file('ca.pem'),
        file(leaf),
      ]);
    const revoked = await verify('revoked.pem');
    expect(revoked.code).not.toBe(0);
    expect(revoked.out).toContain('certificate revoked');
    const good = await verify('good.pem');
    expect(good.out).toContain(': OK');
    expect(good.code).toBe(0);
  });

  it('makes an empty CRL and a delta CRL with a critical indicator and issuing distribution point', async () => {
    const empty = await buildCrl(template(), [], caSign);
    expect(parseCrl(empty).entries).toEqual([]);
    await writeFile(file('empty.crl'), empty);
    const e = await run('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      file('empty.crl'),
      '-text',
      '-noout',
      '-CAfile',
      file('ca.pem'),
      '-verify',
    ]);
    expect(e.out).toContain('verify OK');
    expect(e.out).toContain('No Revoked Certificates.');

    async function* removals(): AsyncIterable<CrlEntry> {
      yield { serial: serialFromHex('03'), revokedAt: new Date(), reason: 'removeFromCRL' };
      yield { serial: serialFromHex('05'), revokedAt: new Date(), reason: 'keyCompromise' };
    }
    const delta = await buildCrl(
      template({
        number: 43n,
        deltaBase: 42n,
        distributionPoint: 'http://ca.kyso.test/delta.crl',
        freshestCrl: 'http://ignored.test/',
      }),
      removals(),
      caSign,
    );
    await writeFile(file('delta.crl'), delta);
    const d = await run('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      file('delta.crl'),
      '-text',
      '-noout',
      '-CAfile',
      file('ca.pem'),
      '-verify',
    ]);
    expect(d.out).toContain('verify OK');
    expect(d.out).toMatch(/Delta CRL Indicator: critical\s+42/);
    expect(d.out).toMatch(
      /Issuing Distribution Point: critical\s+Full Name:\s+URI:http:\/\/ca\.kyso\.test\/delta\.crl/,
    );
    expect(d.out).toContain('Remove From CRL');
    expect(d.out).not.toContain('Freshest CRL');
    const parsed = parseCrl(delta);
    expect([parsed.number, parsed.deltaBase]).toEqual([43n, 42n]);
  });

  it('refuses bad templates and entries', async () => {
    const one = (e: Partial<CrlEntry>) => [{ serial: serialFromHex('01'), revokedAt: new Date(), ...e }];
    await expect(buildCrl(template({ nextUpdate: new Date(0) }), [], caSign)).rejects.toMatchObject({
      code: 'bad-validity',
    });
    await expect(buildCrl(template({ deltaBase: 50n }), [], caSign)).rejects.toMatchObject({
      code: 'bad-crl-number',
    });
    await expect(buildCrl(template(), one({ reason: 'removeFromCRL' }), caSign)).rejects.toMatchObject({
      code: 'bad-reason',
    });
    await expect(buildCrl(template(), one({ serial: Uint8Array.of(0, 0) }), caSign)).rejects.toMatchObject({
      code: 'bad-serial',
    });
    await expect(
      buildCrl(template(), one({ serial: new Uint8Array(21).fill(1) }), caSign),
    ).rejects.toMatchObject({
      code: 'bad-serial',
    });
    await expect(
      buildCrl(template(), one({ revokedAt: new Date(Number.NaN) }), caSign),
    ).rejects.toMatchObject({
      code: 'bad-time',
    });
  });

  it('refuses a malformed CRL', () => {
    expect(() => parseCrl(Uint8Array.of(0x30, 0x03, 0x30, 0x01, 0x00))).toThrow(
      expect.objectContaining({ code: 'malformed-crl' }),
    );
  });

  it('builds a 100,000-entry CRL that openssl verifies', async () => {
    const n = 100_000;
    const progress: number[] = [];
    const start = Date.now();
    function* entries(): Iterable<CrlEntry> {
      for (let i = 0; i < n; i++) {
        const serial = randomSerial();
        serial[15] = i & 0xff;
        yield { serial, revokedAt: new Date(start - i * 1000), reason: i % 2 ? 'keyCompromise' : undefined };
      }
    }
    const t0 = performance.now();
    const der = await buildCrl(template(), entries(), caSign, (done) => progress.push(done));
    const built = performance.now() - t0;
    expect(progress.at(-1)).toBe(n);
    expect(progress.length).toBeGreaterThan(5);
    await writeFile(file('big.crl'), der);
    const t1 = performance.now();
    const r = await run('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      file('big.crl'),
      '-text',
      '-noout',
      '-CAfile',
      file('ca.pem'),
      '-verify',
    ]);
    const checked = performance.now() - t1;
    expect(r.out).toContain('verify OK');
    expect(r.out.match(/Serial Number: /g)).toHaveLength(n);
    expect(r.out.match(/Key Compromise/g)).toHaveLength(n / 2);
    expect(parseCrl(der).entries).toHaveLength(n);
    console.log(
      `100,000-entry CRL: ${der.length} bytes built in ${built.toFixed(0)} ms; openssl read it in ${checked.toFixed(0)} ms`,
    );
  });
});
