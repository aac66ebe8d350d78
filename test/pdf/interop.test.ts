import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signPdf, verifyPdf } from '../../src/pdf/index.js';
import { toPem } from '../../src/pki/index.js';
import { describeWith, run, tempDir, toolMissing } from '../support/env.js';
import { minimalPdf } from './fixtures.js';
import { makeKey, makePki, signerOf, type TestPki } from './pki.js';
import { pdfsig, qpdfCheck } from './tools.js';

describeWith(
  toolMissing('pdfsig', 'certutil', 'pk12util', 'openssl', 'qpdf'),
  'PDFs signed by poppler (pdfsig -add-signature, NSS)',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let pki: TestPki;
    let popplerSigned: Uint8Array;

    beforeAll(async () => {
      tmp = tempDir('kyso-pdf-interop-');
      pki = await makePki();
      // poppler 22 signs with RSA keys from an NSS database.
      const key = makeKey('rsa');
      const cert = await pki.leaf(key, 'Poppler Signer');
      const file = (name: string) => path.join(tmp.dir, name);
      writeFileSync(file('leaf.pem'), toPem('CERTIFICATE', cert));
      writeFileSync(file('key.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      writeFileSync(file('chain.pem'), toPem('CERTIFICATE', pki.issuing) + toPem('CERTIFICATE', pki.root));
      writeFileSync(file('in.pdf'), minimalPdf({ pages: 2 }));
      const nss = file('nss');
      mkdirSync(nss);
      const steps: [string, string[]][] = [
        [
          'openssl',
          [
            'pkcs12',
            '-export',
            '-in',
            file('leaf.pem'),
            '-inkey',
            file('key.pem'),
            '-certfile',
            file('chain.pem'),
            '-name',
            'kyso',
            '-out',
            file('k.p12'),
            '-passout',
            'pass:pw',
          ],
        ],
        ['certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']],
        ['pk12util', ['-i', file('k.p12'), '-d', `sql:${nss}`, '-W', 'pw']],
        [
          'pdfsig',
          [
            '-nssdir',
            `sql:${nss}`,
            '-add-signature',
            '-nick',
            'kyso',
            '-reason',
            'poppler',
            file('in.pdf'),
            file('out.pdf'),
          ],
        ],
      ];
      for (const [cmd, args] of steps) {
        const r = run(cmd, args);
        if (r.code !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
      }
      popplerSigned = new Uint8Array(readFileSync(file('out.pdf')));
    });
    afterAll(() => tmp.remove());

    it('verifies poppler’s signature, whose CMS is BER with indefinite lengths', async () => {
      const start = Buffer.from(popplerSigned).toString('latin1').indexOf('/Contents <3080');
      expect(start).toBeGreaterThan(0);
      const r = await verifyPdf(popplerSigned, { trustAnchors: [pki.root] });
      expect(r.signatures).toHaveLength(1);
      expect(r.signatures[0]).toMatchObject({
        subFilter: 'adbe.pkcs7.detached',
        integrity: { byteRange: 'passed', digest: 'passed', signature: 'passed' },
        chain: { status: 'trusted' },
        coversWholeFile: true,
        // The test hierarchy names no OCSP responder or CRL.
        reasons: ['revocation-unknown'],
        warnings: ['not-pades-sub-filter'],
        reason: 'poppler',
      });
      expect(r.signatures[0].signer?.subject).toContain('CN=Poppler Signer');
    });

    it('adds a Kyso signature after poppler’s; pdfsig and the verifier accept both', async () => {
      const key = makeKey('ec');
      const cert = await pki.leaf(key, 'Kyso Signer');
      const both = await signPdf(popplerSigned, {
        signer: signerOf(key, 'ECDSA-SHA256'),
        certificate: cert,
        chain: [pki.issuing],
      });
      expect(Buffer.compare(both.subarray(0, popplerSigned.length), popplerSigned)).toBe(0);
      expect(qpdfCheck(tmp.dir, both, 'both').ok).toBe(true);
      const ps = pdfsig(tmp.dir, both, 'both');
      expect(
        ps.signatures.map((s) => s.validation),
        ps.output,
      ).toEqual(['Signature is Valid.', 'Signature is Valid.']);
      const r = await verifyPdf(both, { trustAnchors: [pki.root] });
      expect(r.signatures.map((s) => [s.integrity.signature, s.coversWholeFile])).toEqual([
        ['passed', false],
        ['passed', true],
      ]);
    });
  },
);
