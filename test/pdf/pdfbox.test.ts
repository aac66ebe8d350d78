import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRevocationSource } from '../../src/cli/revocation-source.js';
import {
  dict,
  extendPdf,
  IncrementalUpdate,
  type PdfDict,
  PdfDocument,
  PdfReal,
  type PdfRef,
  PdfStream,
  type SignatureReport,
  signPdf,
  verifyPdf,
} from '../../src/pdf/index.js';
import { fromPem, toPem } from '../../src/pki/index.js';
import { describeWith, ROOT, run, runAsync, tempDir, toolMissing } from '../support/env.js';
import { enrol, type TestServer } from '../support/server.js';
import { minimalPdf, qpdf } from './fixtures.js';
import { startPublicTestServer, tsaToken } from './lt-server.js';
import { makeKey, makePki, signerOf, type TestKey, type TestPki } from './pki.js';
import { pdfsig, qpdfCheck } from './tools.js';

// PDFs signed by another signer: Apache PDFBox 2 (Debian's libpdfbox2-java) with a BouncyCastle CMS,
// from test/interop/pdfbox/PdfBoxSign.java, compiled once per run.

/** Where Debian puts the jars; KYSO_JAVA_LIBS points elsewhere. */
const JAVA_LIBS = process.env.KYSO_JAVA_LIBS ?? '/usr/share/java';
const JARS = ['pdfbox2.jar', 'fontbox2.jar', 'commons-logging.jar', 'bcprov.jar', 'bcpkix.jar', 'bcutil.jar'];
const SOURCE = path.join(ROOT, 'test/interop/pdfbox/PdfBoxSign.java');

/** Why the Debian jars cannot be used, or undefined: a missing jar counts as a missing tool. */
function jarsMissing(): string | undefined {
  const missing = JARS.filter((j) => !existsSync(path.join(JAVA_LIBS, j)));
  return missing.length
    ? `${missing.join(', ')} in ${JAVA_LIBS} (libpdfbox2-java, libfontbox2-java, libcommons-logging-java, libbcprov-java, libbcpkix-java, libbcutil-java)`
    : undefined;
}

/** A signer's key and certificate as PdfBoxSign's options name them. */
interface SignerFiles {
  cn: string;
  /** --key/--cert/--chain PEM files, or a --p12 file. */
  args: string[];
}

describeWith(
  toolMissing('java', 'javac', 'openssl', 'qpdf', 'pdfsig') ?? jarsMissing(),
  'PDFs signed by Apache PDFBox 2 (BouncyCastle CMS)',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let pki: TestPki;
    let rsa: SignerFiles;
    let ec: SignerFiles;
    let classpath: string;
    const file = (name: string) => path.join(tmp.dir, name);
    const pdfboxSigned: Record<string, Uint8Array> = {};
    let serverStarting: Promise<TestServer>;

    /** Runs PdfBoxSign over a PDF (one JVM start) and returns what it wrote. */
    async function pdfbox(input: Uint8Array, label: string, signer: SignerFiles, extra: string[] = []) {
      writeFileSync(file(`${label}-in.pdf`), input);
      const r = await runAsync('java', [
        // A short-lived JVM: the C1 compiler and the serial collector start fastest.
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-cp',
        classpath,
        'PdfBoxSign',
        '--in',
        file(`${label}-in.pdf`),
        '--out',
        file(`${label}.pdf`),
        '--name',
        signer.cn,
        ...signer.args,
        ...extra,
      ]);
      if (r.code !== 0) throw new Error(`PdfBoxSign failed: ${r.stderr}${r.stdout}`);
      const out = new Uint8Array(readFileSync(file(`${label}.pdf`)));
      // PDFBox appends: the bytes it was given come first, unchanged.
      expect(Buffer.compare(out.subarray(0, input.length), input)).toBe(0);
      checkedByTools(out, label);
      return out;
    }

    /**
     * qpdf --check finds no errors and pdfsig finds every signature valid. One qpdf warning is PDFBox's
     * and is accepted: its incremental xref stream has no entry for itself, so /Size is one more than
     * the highest object number qpdf sees.
     */
    function checkedByTools(pdf: Uint8Array, label: string) {
      const q = qpdfCheck(tmp.dir, pdf, `${label}-qpdf`);
      const warnings = q.output.split('\n').filter((l) => l.startsWith('WARNING'));
      const pdfboxSize = /reported number of objects \(\d+\) is not one plus the highest object number/;
      const ok =
        q.ok ||
        (warnings.length > 0 &&
          warnings.every((w) => pdfboxSize.test(w)) &&
          q.output.includes('qpdf: operation succeeded with warnings'));
      expect(ok, q.output).toBe(true);
      const ps = pdfsig(tmp.dir, pdf, `${label}-pdfsig`);
      expect(ps.signatures.length, ps.output).toBeGreaterThan(0);
      for (const s of ps.signatures) expect(s.validation, ps.output).toBe('Signature is Valid.');
    }

    async function writeSigner(key: TestKey, cn: string, form: 'pem' | 'p12'): Promise<SignerFiles> {
      const cert = await pki.leaf(key, cn);
      const base = cn.replace(/\W+/g, '-');
      writeFileSync(file(`${base}.crt`), toPem('CERTIFICATE', cert));
      writeFileSync(file(`${base}.key`), key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      if (form === 'pem')
        return {
          cn,
          args: ['--key', file(`${base}.key`), '--cert', file(`${base}.crt`), '--chain', file('chain.pem')],
        };
      const r = run('openssl', [
        'pkcs12',
        '-export',
        '-in',
        file(`${base}.crt`),
        '-inkey',
        file(`${base}.key`),
        '-certfile',
        file('chain.pem'),
        '-name',
        'pdfbox',
        '-out',
        file(`${base}.p12`),
        '-passout',
        'pass:pdfbox-pw',
      ]);
      if (r.code !== 0) throw new Error(`openssl pkcs12 failed: ${r.stderr}`);
      return { cn, args: ['--p12', file(`${base}.p12`), '--pass', 'pdfbox-pw'] };
    }

    /** A signature's integrity and chain as one object, for one expectation per signature. */
    const checks = (s: SignatureReport) => ({
      integrity: s.integrity,
      chain: s.chain.status,
      signer: s.signer?.subjectAttributes.find((a) => a.type === 'CN')?.value,
    });
    const good = { byteRange: 'passed', digest: 'passed', signature: 'passed' };

    beforeAll(async () => {
      tmp = tempDir('kyso-pdfbox-');
      classpath = JARS.map((j) => path.join(JAVA_LIBS, j)).join(path.delimiter);
      // javac runs, and the Kyso server for the B-T case starts, while the test PKI is made.
      const compiled = runAsync('javac', ['-nowarn', '-cp', classpath, '-d', tmp.dir, SOURCE]);
      mkdirSync(file('server'));
      serverStarting = startPublicTestServer(file('server'));
      serverStarting.catch(() => {}); // awaited, and reported, by the B-T case
      pki = await makePki();
      writeFileSync(file('chain.pem'), toPem('CERTIFICATE', pki.issuing) + toPem('CERTIFICATE', pki.root));
      rsa = await writeSigner(makeKey('rsa'), 'PDFBox RSA', 'p12');
      ec = await writeSigner(makeKey('ec'), 'PDFBox ECDSA', 'pem');
      const c = await compiled;
      if (c.code !== 0) throw new Error(`javac failed: ${c.stderr}`);
      classpath = [tmp.dir, classpath].join(path.delimiter);
    }, 30_000);
    afterAll(async () => {
      await (await serverStarting?.catch(() => undefined))?.stop();
      tmp?.remove();
    });

    it('verifies an invisible CAdES signature with an RSA key from a PKCS#12 file', async () => {
      const signed = await pdfbox(minimalPdf({ pages: 2 }), 'rsa-cades', rsa);
      pdfboxSigned.rsa = signed;
      const r = await verifyPdf(signed, { trustAnchors: [pki.root] });
      expect(r.signatures).toHaveLength(1);
      const [s] = r.signatures;
      expect(checks(s)).toEqual({ integrity: good, chain: 'trusted', signer: 'PDFBox RSA' });
      expect(s).toMatchObject({
        subFilter: 'ETSI.CAdES.detached',
        coversWholeFile: true,
        reason: 'PDFBox interop',
      });
      expect(s.digestAlgorithm).toBe('sha256');
      // PdfBoxSign leaves out signing-time and adds signingCertificateV2, as PAdES asks.
      expect(s.warnings).not.toContain('pades-signing-time-attribute');
      expect(s.warnings).not.toContain('pades-no-signing-certificate-v2');
      // Revocation (and, later, other checks being added) may keep it indeterminate: never invalid.
      expect(s.verdict).not.toBe('invalid');
      expect(r.verdict).not.toBe('invalid');
    });

    it('verifies a visible adbe.pkcs7.detached signature with a P-256 key, on an xref-stream PDF', async () => {
      const base = qpdf(
        tmp.dir,
        minimalPdf({ pages: 2, textField: true }),
        ['--object-streams=generate'],
        'objstm',
      );
      const signed = await pdfbox(base, 'ec-pkcs7', ec, [
        '--sub-filter',
        'pkcs7',
        '--visible',
        '2,300,80,220,50',
      ]);
      const r = await verifyPdf(signed, { trustAnchors: [pki.root] });
      expect(r.signatures).toHaveLength(1);
      const [s] = r.signatures;
      expect(checks(s)).toEqual({ integrity: good, chain: 'trusted', signer: 'PDFBox ECDSA' });
      expect(s).toMatchObject({ subFilter: 'adbe.pkcs7.detached', coversWholeFile: true });
      // BouncyCastle's default attributes carry signing-time and no signingCertificateV2.
      expect(s.warnings).toEqual(
        expect.arrayContaining(['not-pades-sub-filter', 'pades-signing-time-attribute']),
      );
      expect(s.verdict).not.toBe('invalid');
      // The form's text field is still there, beside the new signature field on page 2.
      const doc = PdfDocument.open(signed);
      expect(doc.fields().map((f) => f.name)).toContain('Ho ten');
      const [field] = doc.signatureFields();
      expect(field.signature?.name).toBe('PDFBox ECDSA');
      // Its widget sits on page 2 at the rectangle asked for.
      const widget = doc.object(field.widgets[0]) as PdfDict;
      expect((widget.get('P') as PdfRef).key).toBe(doc.pages()[1].ref.key);
      const rect = doc.get(widget, 'Rect') as (number | PdfReal)[];
      expect(rect.map((v) => (v instanceof PdfReal ? v.value : v))).toEqual([300, 80, 520, 130]);
    });

    it('adds a PDFBox signature after a Kyso signature; both verify', async () => {
      const key = makeKey('ec');
      const kyso = await signPdf(minimalPdf({ pages: 1 }), {
        signer: signerOf(key, 'ECDSA-SHA256'),
        certificate: await pki.leaf(key, 'Kyso Signer'),
        chain: [pki.issuing],
        reason: 'kyso',
      });
      const both = await pdfbox(kyso, 'kyso-then-pdfbox', ec, ['--visible', '1,72,72,220,50']);
      const r = await verifyPdf(both, { trustAnchors: [pki.root] });
      expect(r.signatures.map(checks)).toEqual([
        { integrity: good, chain: 'trusted', signer: 'Kyso Signer' },
        { integrity: good, chain: 'trusted', signer: 'PDFBox ECDSA' },
      ]);
      expect(r.signatures.map((s) => s.coversWholeFile)).toEqual([false, true]);
      expect(r.signatures[0].modifications.revisionsAfter).toBe(1);
      // PDFBox's revision only adds a signature: the difference analysis must not call it disallowed, and
      // it must never make Kyso's signature invalid. Revocation and other checks still being added may
      // leave the verdicts indeterminate, so 'valid' is not asserted (the lead tightens this later).
      expect(r.signatures[0].modifications.status).not.toBe('disallowed');
      expect(r.signatures.map((s) => s.verdict)).not.toContain('invalid');
    });

    it('adds a Kyso signature after a PDFBox signature; both verify', async () => {
      const first = pdfboxSigned.rsa;
      expect(first).toBeDefined();
      const key = makeKey('rsa');
      const both = await signPdf(first, {
        signer: signerOf(key, 'RSA-PKCS1-SHA256'),
        certificate: await pki.leaf(key, 'Kyso Signer'),
        chain: [pki.issuing],
      });
      expect(Buffer.compare(both.subarray(0, first.length), first)).toBe(0);
      checkedByTools(both, 'pdfbox-then-kyso');
      const r = await verifyPdf(both, { trustAnchors: [pki.root] });
      expect(r.signatures.map(checks)).toEqual([
        { integrity: good, chain: 'trusted', signer: 'PDFBox RSA' },
        { integrity: good, chain: 'trusted', signer: 'Kyso Signer' },
      ]);
      expect(r.signatures.map((s) => s.coversWholeFile)).toEqual([false, true]);
      expect(r.signatures[0].modifications.status).not.toBe('disallowed');
      expect(r.signatures.map((s) => s.verdict)).not.toContain('invalid');
    });

    it('adds a second PDFBox signature over a PDFBox-signed PDF', async () => {
      const both = await pdfbox(pdfboxSigned.rsa, 'pdfbox-twice', ec, ['--visible', '1,300,72,220,50']);
      const r = await verifyPdf(both, { trustAnchors: [pki.root] });
      expect(r.signatures.map(checks)).toEqual([
        { integrity: good, chain: 'trusted', signer: 'PDFBox RSA' },
        { integrity: good, chain: 'trusted', signer: 'PDFBox ECDSA' },
      ]);
      expect(new Set(r.signatures.map((s) => s.field)).size).toBe(2);
      expect(r.signatures[0].modifications.status).not.toBe('disallowed');
      expect(r.signatures.map((s) => s.verdict)).not.toContain('invalid');
    });

    it('flags a byte changed inside the range PDFBox signed', async () => {
      const tampered = new Uint8Array(pdfboxSigned.rsa);
      const at = Buffer.from(tampered).indexOf('(Trang 1 / Page 1)');
      expect(at).toBeGreaterThan(0);
      tampered[at + 1] = 'X'.charCodeAt(0);
      const r = await verifyPdf(tampered, { trustAnchors: [pki.root] });
      expect(r.signatures[0]).toMatchObject({
        verdict: 'invalid',
        integrity: { byteRange: 'passed', digest: 'failed' },
      });
      expect(r.signatures[0].reasons).toContain('digest-mismatch');
      expect(r.verdict).toBe('invalid');
    });

    it('flags an incremental update that changes page content after PDFBox signed', async () => {
      const signed = pdfboxSigned.rsa;
      const doc = PdfDocument.open(signed);
      const page = doc.pages()[0];
      const update = new IncrementalUpdate(doc);
      const content = update.newRef();
      const text = 'BT /F1 24 Tf 72 720 Td (Changed after signing) Tj ET\n';
      update.set(content, new PdfStream(dict({}), new Uint8Array(Buffer.from(text, 'latin1'))));
      update.set(page.ref, page.dict.copy().set('Contents', content));
      const changed = update.write().bytes;
      const r = await verifyPdf(changed, { trustAnchors: [pki.root] });
      const [s] = r.signatures;
      // The signed bytes are intact, but the signature no longer covers the file and what follows is a
      // page change: the difference analysis reports it disallowed ('changes-not-allowed', invalid);
      // without it the change is 'not-checked' (indeterminate). Either way it is never valid; the lead
      // tightens this to 'invalid' once the analysis is in.
      expect(s.integrity).toEqual(good);
      expect(s.coversWholeFile).toBe(false);
      expect(s.modifications.revisionsAfter).toBe(1);
      expect(s.modifications.status).not.toBe('allowed');
      expect(s.verdict).not.toBe('valid');
      expect(r.verdict).not.toBe('valid');
    });

    describe('with a Kyso server as TSA', () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await serverStarting;
      }, 30_000);

      it('verifies as valid a PDFBox B-T signature by a Kyso-issued key, time-stamped by Kyso’s TSA', async () => {
        // The certificate comes from the running Kyso CA, so its OCSP URL answers: with revocation
        // checked online, nothing is left undetermined and the verdict is valid.
        const { key, cert } = await enrol(
          server,
          tmp.dir,
          'pdfbox-kyso',
          '/C=VN/O=UBND tỉnh Thử nghiệm/CN=PDFBox Kyso',
        );
        writeFileSync(file('kyso-chain.pem'), readFileSync(server.issuingPem));
        const kyso: SignerFiles = {
          cn: 'PDFBox Kyso',
          args: ['--key', key, '--cert', cert, '--chain', file('kyso-chain.pem')],
        };
        const signed = await pdfbox(minimalPdf({ pages: 1 }), 'pdfbox-bt', kyso, [
          '--tsa',
          `${server.url}/tsa`,
        ]);
        const [serverRoot] = fromPem(readFileSync(server.rootPem, 'utf8'), 'CERTIFICATE');
        const revocation = httpRevocationSource({ timeoutMs: 3000 });
        const r = await verifyPdf(signed, { trustAnchors: [serverRoot], revocation });
        const [s] = r.signatures;
        expect(checks(s)).toEqual({ integrity: good, chain: 'trusted', signer: 'PDFBox Kyso' });
        expect(s.timestamp).toMatchObject({ status: 'passed', chain: 'trusted' });
        expect(s.signingTime).toEqual(s.timestamp?.genTime);
        expect(Math.abs(s.signingTime!.getTime() - Date.now())).toBeLessThan(5 * 60_000);
        expect(s.revocation.status).toBe('good');
        expect([s.verdict, s.reasons]).toEqual(['valid', []]);
        // Kyso brings the PDFBox signature to B-LTA; it is then valid offline too.
        const lta = await extendPdf(signed, {
          level: 'B-LTA',
          source: revocation,
          certificates: [
            readFileSync(server.issuingPem, 'utf8'),
            readFileSync(server.rootPem, 'utf8'),
          ].flatMap((pem) => fromPem(pem, 'CERTIFICATE')),
          stamp: async (digest) => tsaToken(`${server.url}/tsa`, digest),
        });
        expect(lta.problems).toEqual([]);
        const offline = await verifyPdf(lta.pdf, { trustAnchors: [serverRoot] });
        expect(offline.signatures.map((x) => [x.kind, x.verdict])).toEqual([
          ['signature', 'valid'],
          ['document-timestamp', 'valid'],
        ]);
      });
    });
  },
);
