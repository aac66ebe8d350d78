import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { toPem } from '../src/pki/index.js';
import { startPublicTestServer } from './pdf/lt-server.js';
import { discPng, strokePng } from './pdf/png-writer.js';
import { CidFont, textPdf } from './pdf/text-pdf.js';
import { pdfsig, qpdfCheck } from './pdf/tools.js';
import {
  describeWith,
  kysoAsync,
  run,
  softHsmMissing,
  softHsmToken,
  tempDir,
  toolMissing,
} from './support/env.js';
import { opensslP12, tokenKey } from './support/keys.js';
import { enrol, type TestServer } from './support/server.js';

// The document office's whole signing chain, from the command line against a running Kyso (CA, OCSP,
// CRL, TSA): the deputy and the director sign an outgoing document one after the other, each image
// placed by their name, the clerk seals it with the organization's key in an HSM, and the result is
// brought to B-LTA. Anyone holding only the root certificate must then find it valid, offline.

const SERIF = '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf';
const DEPUTY = 'Trần Thị Bình';
const DIRECTOR = 'Nguyễn Văn An';
const P12_PASSWORD = 'mật khẩu của phó giám đốc';

describeWith(
  toolMissing('openssl', 'qpdf', 'pdfsig', 'pdftotext') ??
    softHsmMissing() ??
    (existsSync(SERIF) ? undefined : `${SERIF} is missing`),
  'leader → leader → seal → B-LTA, from the command line',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let server: TestServer;
    let token: ReturnType<typeof softHsmToken>;
    const at = (name: string) => path.join(tmp.dir, name);

    /** A key and certificate from the running CA, as --key, --cert and --chain arguments. */
    async function enrolled(name: string, profile: 'individual' | 'organization', subject: string) {
      const { key, cert } = await enrol(server, tmp.dir, name, subject, profile);
      return ['--key', key, '--cert', cert, '--chain', at('chain.pem')];
    }

    beforeAll(async () => {
      tmp = tempDir('kyso-document-chain-');
      token = softHsmToken('kyso-seal');
      server = await startPublicTestServer(tmp.dir);
      // The chain file holds the root too, so that B-LT fetches the issuing CA's status as well.
      writeFileSync(
        at('chain.pem'),
        readFileSync(server.issuingPem) + readFileSync(server.rootPem).toString(),
      );
      const cid = new CidFont(readFileSync(SERIF));
      const line = (x: number, y: number, text: string) => `BT /F3 13 Tf ${x} ${y} Td ${cid.hex(text)} Tj ET`;
      const content = [
        line(72, 760, 'UBND TỈNH THỬ NGHIỆM'),
        line(72, 700, 'QUYẾT ĐỊNH về việc thử nghiệm chữ ký số'),
        line(90, 320, 'KT. GIÁM ĐỐC'),
        line(90, 304, 'PHÓ GIÁM ĐỐC'),
        line(90, 200, DEPUTY),
        line(360, 320, 'GIÁM ĐỐC'),
        line(360, 200, DIRECTOR),
      ].join('\n');
      writeFileSync(at('document.pdf'), textPdf([{ content, deflate: true }], { cid }));
      writeFileSync(at('signature.png'), strokePng(240, 100, [20, 40, 200]));
      writeFileSync(at('seal.png'), discPng(160, [220, 20, 30]));
    });
    afterAll(async () => {
      await server?.stop();
      token?.remove();
      if (!process.env.KYSO_KEEP) tmp?.remove();
    });

    test('three signatures and a document time-stamp: valid offline, each change allowed, tools agree', async () => {
      const tsa = ['--tsa', `${server.url}/tsa`];
      // The three ways a key reaches `kyso pdf sign`: a PKCS#12 file (the deputy), a PEM key (the
      // director) and a PKCS#11 token (the seal).
      const d = await enrol(
        server,
        tmp.dir,
        'deputy',
        `/C=VN/L=Hà Giang/O=UBND tỉnh Thử nghiệm/OU=Văn phòng/CN=${DEPUTY}`,
      );
      opensslP12(at('deputy.p12'), { key: d.key, cert: d.cert, chain: at('chain.pem') }, P12_PASSWORD);
      const deputy = ['--p12', at('deputy.p12'), '--passin', 'env:P12_PASS'];
      const director = await enrolled(
        'director',
        'individual',
        `/C=VN/L=Hà Giang/O=UBND tỉnh Thử nghiệm/CN=${DIRECTOR}`,
      );
      // The organization's seal key lives in an HSM (SoftHSM2 through PKCS#11); the CA certifies it.
      const publicKey = await tokenKey(token, 'con-dau');
      const sealCert = await server.authority.issueForKey({
        subject: 'C=VN, L=Hà Giang, O=UBND tỉnh Thử nghiệm, CN=UBND TỈNH THỬ NGHIỆM',
        publicKey,
        profile: 'organization',
        actor: 'test',
      });
      writeFileSync(at('seal.crt'), toPem('CERTIFICATE', sealCert.der));
      const seal = [
        '--pkcs11-token',
        token.label,
        '--pkcs11-key',
        'con-dau',
        '--cert',
        at('seal.crt'),
        '--chain',
        at('chain.pem'),
      ];
      const steps: [string, string, string[]][] = [
        ['document.pdf', 'signed-1.pdf', [...deputy, '--image', at('signature.png'), '--anchor', DEPUTY]],
        ['signed-1.pdf', 'signed-2.pdf', [...director, '--image', at('signature.png'), '--anchor', DIRECTOR]],
        ['signed-2.pdf', 'sealed.pdf', [...seal, '--seal', '--image', at('seal.png'), '--anchor', DIRECTOR]],
      ];
      for (const [input, output, key] of steps) {
        const level = output === 'sealed.pdf' ? 'B-LTA' : 'B-T';
        const r = await kysoAsync(
          ['pdf', 'sign', at(input), '--out', at(output), ...key, '--level', level, ...tsa],
          {
            env: {
              P12_PASS: P12_PASSWORD,
              KYSO_PKCS11_PIN: token.pin,
              KYSO_PKCS11_MODULE: token.module,
              SOFTHSM2_CONF: process.env.SOFTHSM2_CONF,
            },
          },
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        // Each step only appends: the earlier file is a prefix of the later one.
        const before = readFileSync(at(input));
        expect(readFileSync(at(output)).subarray(0, before.length).equals(before)).toBe(true);
      }

      const sealed = readFileSync(at('sealed.pdf'));
      const q = qpdfCheck(tmp.dir, sealed, 'sealed-qpdf');
      expect(q.ok, q.output).toBe(true);
      const p = pdfsig(tmp.dir, sealed, 'sealed-pdfsig');
      // pdfsig checks the three CMS signatures; it leaves document time-stamps unverified.
      expect(p.signatures.slice(0, 3).map((s) => s.validation)).toEqual(Array(3).fill('Signature is Valid.'));
      expect(p.signatures.length).toBeGreaterThan(3);

      // Only the root is given, and nothing is fetched: everything else comes from the document.
      const verifySealed = (...extra: string[]) =>
        kysoAsync(['pdf', 'verify', at('sealed.pdf'), '--ca', server.rootPem, '--offline', ...extra]);
      const verify = await verifySealed('--json');
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      const report = JSON.parse(verify.stdout);
      expect(report.verdict).toBe('valid');
      const kinds = report.signatures.map((s: { kind: string; verdict: string }) => `${s.kind} ${s.verdict}`);
      expect(kinds.slice(0, 3)).toEqual(Array(3).fill('signature valid'));
      expect(kinds.slice(3).length).toBeGreaterThanOrEqual(1);
      for (const k of kinds.slice(3)) expect(k).toBe('document-timestamp valid');
      for (const s of report.signatures.slice(0, 3)) {
        expect(s.revocation.status).toBe('good');
        expect(s.timestamp.status).toBe('passed');
        expect(['allowed', 'none']).toContain(s.modifications.status);
      }
      const names = report.signatures
        .slice(0, 3)
        .map((s: { signer: { subject: string } }) => s.signer.subject.match(/CN=([^,]+)/)?.[1]);
      expect(names).toEqual([DEPUTY, DIRECTOR, 'UBND TỈNH THỬ NGHIỆM']);

      // The same verdict in the Vietnamese report, on paper.
      const human = await verifySealed('--report', at('report.pdf'));
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain('Kết luận chung: hợp lệ');
      const text = run('pdftotext', [at('report.pdf'), '-']).stdout;
      for (const name of [DEPUTY, DIRECTOR, 'UBND TỈNH THỬ NGHIỆM']) expect(text).toContain(name);
    });

    test('the trust anchors come from the Kyso CA in --data, or from KYSO_TRUST_ANCHORS, without --ca', async () => {
      const verdictWith = async (args: string[], env?: NodeJS.ProcessEnv) => {
        const r = await kysoAsync(['pdf', 'verify', at('sealed.pdf'), '--offline', '--json', ...args], {
          env,
        });
        return JSON.parse(r.stdout).verdict;
      };
      const empty = at('no-ca');
      expect(await verdictWith(['--data', empty])).toBe('indeterminate');
      expect(await verdictWith(['--data', server.dataDir])).toBe('valid');
      expect(await verdictWith(['--data', empty], { KYSO_TRUST_ANCHORS: server.rootPem })).toBe('valid');
    });
  },
);
