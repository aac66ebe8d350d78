import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { verifyAuditLog } from '../src/auth/index.js';
import { CaError, defaultCeremony, issueCrl, runCeremony } from '../src/ca/index.js';
import { PkiError, parseCertificate, parseCrl } from '../src/pki/index.js';
import { initTestCa, opensslCsr, type TestCa, testEnv, writePem, x509Text } from './support/ca.js';
import {
  describeWith,
  run,
  softHsmMissing,
  softHsmToken,
  tempDir,
  testDatabases,
  toolMissing,
} from './support/env.js';

const hsmMissing = softHsmMissing();
let token: ReturnType<typeof softHsmToken> | undefined;
beforeAll(() => {
  if (!hsmMissing) token = softHsmToken('kyso-ca-engine');
});
afterAll(() => token?.remove());

const backends = [
  { name: 'soft keys', kind: 'soft' as const, missing: undefined },
  { name: 'SoftHSM2', kind: 'pkcs11' as const, missing: hsmMissing },
];

for (const { db, missing: dbMissing } of testDatabases()) {
  for (const backend of backends) {
    const missing = dbMissing ?? backend.missing ?? toolMissing('openssl', 'certtool');
    describeWith(missing, `CA engine on ${db.name} with ${backend.name}`, () => {
      let t: TestCa;
      let tmp: ReturnType<typeof tempDir>;
      let drop: () => Promise<void>;
      const actor = 'test';

      beforeAll(async () => {
        tmp = tempDir();
        const e = await testEnv(
          db,
          backend.kind === 'soft'
            ? { kind: 'soft' }
            : { kind: 'pkcs11', module: token!.module, label: token!.label, pin: token!.pin },
        );
        drop = e.drop;
        t = await initTestCa(tmp.dir, e.env);
      });
      afterAll(async () => {
        await t?.close();
        await drop?.();
        tmp?.remove();
      });

      const verifyChain = (certFile: string, extra: string[] = []) =>
        run('openssl', ['verify', '-CAfile', t.rootPem, '-untrusted', t.issuingPem, ...extra, certFile]);

      test('the ceremony refuses a second run on the same data directory', async () => {
        await expect(runCeremony(t.config, defaultCeremony())).rejects.toMatchObject({
          code: 'already-initialized',
        });
      });

      test('the root is self-issued for 20 years and the issuing CA chains to it', () => {
        const text = x509Text(t.rootPem);
        expect(text).toContain('CA:TRUE');
        expect(text).toContain('Certificate Sign, CRL Sign');
        const years = /Not Before: .* (\d{4}) GMT[\s\S]*Not After : .* (\d{4}) GMT/.exec(text)!;
        expect(Number(years[2]) - Number(years[1])).toBe(20);
        expect(run('openssl', ['verify', '-CAfile', t.rootPem, t.issuingPem]).code).toBe(0);
        expect(x509Text(t.issuingPem)).toMatch(/CA:TRUE, pathlen:0/);
      });

      const profiles = [
        {
          profile: 'individual',
          subject:
            'C=VN, L=Hà Giang, O=UBND tỉnh Hà Giang, OU=Sở Nội vụ, OU=Văn phòng, CN=Nguyễn Văn An, E=nvan@hagiang.gov.vn',
          expect: [
            'Digital Signature, Non Repudiation',
            'E-mail Protection',
            '1.3.6.1.5.5.7.3.36',
            'email:nvan@hagiang.gov.vn',
            'CN=Nguyễn Văn An',
            'OU=Văn phòng',
          ],
        },
        {
          profile: 'organization',
          subject: 'CN=CỤC THUẾ, O=BỘ TÀI CHÍNH, L=Hà Nội, C=VN',
          expect: ['Digital Signature, Non Repudiation', 'C=VN, L=Hà Nội, O=BỘ TÀI CHÍNH, CN=CỤC THUẾ'],
        },
        {
          profile: 'device',
          subject: 'C=VN, O=Cục Chứng thực số, CN=dvc.hagiang.gov.vn',
          expect: ['TLS Web Server Authentication', 'DNS:dvc.hagiang.gov.vn'],
        },
        {
          profile: 'tsa',
          subject: 'C=VN, O=Kyso, CN=TSA 2',
          expect: ['X509v3 Extended Key Usage: critical', 'Time Stamping'],
        },
        { profile: 'ocsp', subject: 'C=VN, O=Kyso, CN=OCSP 2', expect: ['OCSP Signing', 'OCSP No Check'] },
        {
          profile: 'subca',
          subject: 'C=VN, O=Kyso, CN=Issuing CA 2',
          expect: ['CA:TRUE, pathlen:0', 'Certificate Sign, CRL Sign'],
        },
      ];
      for (const p of profiles) {
        test(`issues a ${p.profile} certificate that OpenSSL and GnuTLS verify`, async () => {
          const { csr } = opensslCsr(tmp.dir, p.profile, 'ec-p256');
          const record = await t.ca.issue({
            csr: readFileSync(csr),
            profile: p.profile,
            subject: p.subject,
            actor,
          });
          const file = writePem(tmp.dir, `${p.profile}.pem`, 'CERTIFICATE', record.der);
          const text = x509Text(file);
          for (const s of p.expect) expect(text).toContain(s);
          if (p.profile === 'subca') {
            expect(run('openssl', ['verify', '-CAfile', t.rootPem, file]).code).toBe(0);
            return;
          }
          expect(text).toContain('OCSP - URI:http://kyso.test/ocsp');
          expect(text).toContain('CA Issuers - URI:http://kyso.test/ca/issuing.cer');
          expect(text).toContain('URI:http://kyso.test/crl/issuing.crl');
          const v = verifyChain(file, p.profile === 'device' ? ['-purpose', 'sslserver'] : []);
          expect(v.stdout + v.stderr).toContain(': OK');
          const bundle = path.join(tmp.dir, `${p.profile}-chain.pem`);
          writeFileSync(bundle, [file, t.issuingPem, t.rootPem].map((f) => readFileSync(f, 'utf8')).join(''));
          const g = run('certtool', ['--verify-chain', '--infile', bundle]);
          expect(g.stdout + g.stderr).toMatch(/Chain verification output: Verified/);
          expect(g.code).toBe(0);
        });
      }

      test('the approved subject wins over the CSR, and RSA-PSS and P-384 keys are accepted', async () => {
        const a = opensslCsr(tmp.dir, 'pss', 'rsa-2048-pss', '/C=US/CN=Attacker Chosen');
        const r = await t.ca.issue({
          csr: readFileSync(a.csr),
          profile: 'individual',
          subject: 'C=VN, O=Bộ Nội vụ, CN=Trần Thị Bình',
          actor,
        });
        expect(r.subject).toBe('C=VN, O=Bộ Nội vụ, CN=Trần Thị Bình');
        expect(x509Text(writePem(tmp.dir, 'pss.pem', 'CERTIFICATE', r.der))).not.toContain('Attacker');
        const b = opensslCsr(tmp.dir, 'p384', 'ec-p384');
        const r2 = await t.ca.issue({ csr: readFileSync(b.csr), profile: 'individual', actor });
        expect(r2.subject).toContain('CN=Test Subscriber');
      });

      test('refuses keys the profile does not allow, and bad CSRs, storing nothing', async () => {
        const before = (await t.ca.search({ limit: 1000 })).length;
        for (const kind of ['rsa-1024', 'ec-p521'] as const) {
          const { csr } = opensslCsr(tmp.dir, kind, kind);
          await expect(
            t.ca.issue({ csr: readFileSync(csr), profile: 'individual', actor }),
          ).rejects.toMatchObject({ code: 'key-not-allowed' });
        }
        // Ed25519 is not among TT 15/2025's algorithms: its CSR signature cannot even be checked.
        const ed = opensslCsr(tmp.dir, 'ed25519', 'ed25519');
        await expect(
          t.ca.issue({ csr: readFileSync(ed.csr), profile: 'individual', actor }),
        ).rejects.toMatchObject({ code: 'unsupported-algorithm' });
        const good = readFileSync(opensslCsr(tmp.dir, 'good', 'ec-p256').csr, 'utf8');
        const der = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ''), 'base64');
        const flipped = Buffer.from(der);
        flipped[flipped.length - 5] ^= 0x01;
        const cases: [string, Uint8Array | string][] = [
          ['garbage', Buffer.from('not a certificate request')],
          ['truncated', der.subarray(0, der.length - 20)],
          ['oversized', Buffer.concat([der, Buffer.alloc(70_000)])],
          ['bad signature', flipped],
          ['empty', Buffer.alloc(0)],
        ];
        for (const [name, csr] of cases) {
          const err = await t.ca.issue({ csr, profile: 'individual', actor }).catch((e) => e);
          expect(err, name).toBeInstanceOf(PkiError);
        }
        await expect(
          t.ca.issue({ csr: good, profile: 'individual', subject: 'C=VN, CN=Evil\u0007Name', actor }),
        ).rejects.toBeInstanceOf(PkiError);
        await expect(
          t.ca.issue({ csr: good, profile: 'individual', days: 5 * 365 + 10, actor }),
        ).rejects.toMatchObject({ code: 'bad-validity' });
        await expect(t.ca.issue({ csr: good, profile: 'nosuch', actor })).rejects.toMatchObject({
          code: 'unknown-profile',
        });
        await expect(
          t.ca.issue({ csr: good, profile: 'individual', subject: 'C=VN, O=No Common Name', actor }),
        ).rejects.toMatchObject({ code: 'bad-subject' });
        expect((await t.ca.search({ limit: 1000 })).length).toBe(before);
        expect((await verifyAuditLog(t.ca.store)).ok).toBe(true);
      });

      test('revocation: the CRL lists it with its reason, OpenSSL verifies the CRL and rejects the certificate', async () => {
        const { csr } = opensslCsr(tmp.dir, 'torevoke', 'ec-p256');
        const r = await t.ca.issue({ csr: readFileSync(csr), profile: 'individual', actor });
        const certFile = writePem(tmp.dir, 'torevoke.pem', 'CERTIFICATE', r.der);
        const revoked = await t.ca.revoke(r.serial.toLowerCase(), { reason: 'keyCompromise', actor });
        expect(revoked.status).toBe('revoked');
        await expect(t.ca.revoke(r.serial, { reason: 'keyCompromise', actor })).rejects.toMatchObject({
          code: 'illegal-transition',
        });
        await expect(t.ca.revoke('0A0B0C', { reason: 'keyCompromise', actor })).rejects.toMatchObject({
          code: 'unknown-certificate',
        });
        await expect(t.ca.revoke(r.serial, { reason: 'certificateHold', actor })).rejects.toMatchObject({
          code: 'reason-not-allowed',
        });
        await expect(t.ca.renew(r.serial, { actor })).rejects.toMatchObject({ code: 'illegal-transition' });

        const crl = await issueCrl(t.ca, { actor });
        const crlFile = writePem(tmp.dir, 'full.crl', 'X509 CRL', crl.der);
        const text = run('openssl', [
          'crl',
          '-in',
          crlFile,
          '-noout',
          '-text',
          '-CAfile',
          t.issuingPem,
          '-verify',
        ]);
        expect(text.stderr).toContain('verify OK');
        expect(text.stdout).toContain(`Serial Number: ${r.serial}`);
        expect(text.stdout).toContain('Key Compromise');
        expect(text.stdout).toContain('Issuing Distribution Point: critical');
        expect(text.stdout).toContain('URI:http://kyso.test/crl/issuing-delta.crl');
        const v = verifyChain(certFile, ['-crl_check', '-CRLfile', crlFile]);
        expect(v.code).not.toBe(0);
        expect(v.stdout + v.stderr).toContain('certificate revoked');
      });

      test('hold and release: held on the CRL, removeFromCRL in the next delta', async () => {
        const { csr } = opensslCsr(tmp.dir, 'tohold', 'ec-p256');
        const r = await t.ca.issue({
          csr: readFileSync(csr),
          profile: 'organization',
          subject: 'C=VN, O=Sở Tư pháp, CN=Sở Tư pháp',
          actor,
        });
        const certFile = writePem(tmp.dir, 'tohold.pem', 'CERTIFICATE', r.der);
        await t.ca.hold(r.serial, { actor });
        await expect(t.ca.hold(r.serial, { actor })).rejects.toMatchObject({ code: 'illegal-transition' });
        const full = parseCrl((await issueCrl(t.ca, { actor })).der);
        expect(full.entries.find((e) => e.serialHex === r.serial)?.reason).toBe('certificateHold');
        await t.ca.release(r.serial, { actor });
        const delta = await issueCrl(t.ca, { delta: true, actor });
        const parsed = parseCrl(delta.der);
        expect(parsed.deltaBase).toBe(full.number);
        expect(parsed.entries.find((e) => e.serialHex === r.serial)?.reason).toBe('removeFromCRL');
        const deltaText = run('openssl', [
          'crl',
          '-in',
          writePem(tmp.dir, 'delta.crl', 'X509 CRL', delta.der),
          '-noout',
          '-text',
          '-CAfile',
          t.issuingPem,
          '-verify',
        ]);
        expect(deltaText.stderr).toContain('verify OK');
        expect(deltaText.stdout).toContain('Delta CRL Indicator: critical');
        expect(deltaText.stdout).toContain('Remove From CRL');
        const fresh = writePem(
          tmp.dir,
          'after-release.crl',
          'X509 CRL',
          (await issueCrl(t.ca, { actor })).der,
        );
        expect(verifyChain(certFile, ['-crl_check', '-CRLfile', fresh]).code).toBe(0);
      });

      test('renewal keeps the subject, with the same key or a new one; change supersedes the old certificate', async () => {
        const { csr } = opensslCsr(tmp.dir, 'renew', 'ec-p256');
        const r = await t.ca.issue({
          csr: readFileSync(csr),
          profile: 'individual',
          subject: 'C=VN, O=Sở Y tế, CN=Lê Văn Cường, E=lvc@syt.gov.vn',
          days: 365,
          actor,
        });
        const same = await t.ca.renew(r.serial, { actor });
        expect(same.serial).not.toBe(r.serial);
        expect(same.subject).toBe(r.subject);
        expect(same.renewedFrom).toBe(r.serial);
        expect(Buffer.from(parseCertificate(same.der).publicKey)).toEqual(
          Buffer.from(parseCertificate(r.der).publicKey),
        );
        const extendedDays = (same.notAfter.getTime() - r.notAfter.getTime()) / 86_400_000;
        expect(extendedDays).toBeGreaterThan(365 * 3 - 2);
        expect(x509Text(writePem(tmp.dir, 'renewed.pem', 'CERTIFICATE', same.der))).toContain(
          'email:lvc@syt.gov.vn',
        );
        await expect(t.ca.renew(r.serial, { days: 4 * 365, actor })).rejects.toMatchObject({
          code: 'bad-validity',
        });
        const rekey = await t.ca.renew(r.serial, {
          csr: readFileSync(opensslCsr(tmp.dir, 'rekey', 'rsa-2048').csr),
          days: 30,
          actor,
        });
        expect(Buffer.from(parseCertificate(rekey.der).publicKey)).not.toEqual(
          Buffer.from(parseCertificate(r.der).publicKey),
        );

        const changed = await t.ca.change(r.serial, {
          subject: 'C=VN, O=Sở Nội vụ, CN=Lê Văn Cường, E=lvc@snv.gov.vn',
          actor,
        });
        expect(changed.subject).toContain('Sở Nội vụ');
        expect(changed.notAfter.getTime()).toBe(r.notAfter.getTime());
        const old = await t.ca.get(r.serial);
        expect(old.status).toBe('revoked');
        expect(old.revocationReason).toBe('superseded');
        expect(old.replacedBy).toBe(changed.serial);
        const changedText = x509Text(writePem(tmp.dir, 'changed.pem', 'CERTIFICATE', changed.der));
        expect(changedText).toContain('email:lvc@snv.gov.vn');
        expect(changedText).not.toContain('lvc@syt.gov.vn');
        await expect(t.ca.change(r.serial, { subject: 'C=VN, CN=X', actor })).rejects.toBeInstanceOf(CaError);
      });

      test('search by name, e-mail, organization and serial', async () => {
        const byName = await t.ca.search({ text: 'lê văn cường' });
        expect(byName.length).toBeGreaterThanOrEqual(3);
        const byMail = await t.ca.search({ text: 'lvc@snv.gov.vn' });
        expect(byMail).toHaveLength(1);
        expect((await t.ca.search({ text: byMail[0].serial.toLowerCase() }))[0].serial).toBe(
          byMail[0].serial,
        );
        expect((await t.ca.search({ organization: 'sở tư pháp' }))[0].commonName).toBe('Sở Tư pháp');
        expect((await t.ca.search({ status: 'revoked' })).every((c) => c.status === 'revoked')).toBe(true);
      });

      test('every operation left an intact audit chain', async () => {
        const v = await verifyAuditLog(t.ca.store);
        expect(v.problems).toEqual([]);
        expect(v.entries).toBeGreaterThan(20);
      });
    });
  }
}
