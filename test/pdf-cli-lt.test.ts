import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { minimalPdf } from './pdf/fixtures.js';
import { startPublicTestServer } from './pdf/lt-server.js';
import { pdfsig, qpdfCheck } from './pdf/tools.js';
import { describeWith, kysoAsync, tempDir, toolMissing } from './support/env.js';
import { enrol, type TestServer } from './support/server.js';

describeWith(
  toolMissing('openssl', 'qpdf', 'pdfsig'),
  'kyso pdf sign --level B-LT|B-LTA, extend and verify --offline',
  () => {
    let tmp: ReturnType<typeof tempDir>;
    let server: TestServer;
    let leaf: { key: string; cert: string };
    const at = (name: string) => path.join(tmp.dir, name);
    const sign = (out: string, level: string, extra: string[] = []) =>
      kysoAsync([
        'pdf',
        'sign',
        at('in.pdf'),
        '--out',
        at(out),
        '--key',
        leaf.key,
        '--cert',
        leaf.cert,
        '--chain',
        server.issuingPem,
        '--chain',
        server.rootPem,
        '--level',
        level,
        '--tsa',
        `${server.url}/tsa`,
        ...extra,
      ]);
    const verify = (file: string, extra: string[] = []) =>
      kysoAsync(['pdf', 'verify', at(file), '--ca', server.rootPem, ...extra]);

    beforeAll(async () => {
      tmp = tempDir('kyso-pdf-cli-lt-');
      server = await startPublicTestServer(tmp.dir);
      writeFileSync(at('in.pdf'), minimalPdf());
      leaf = await enrol(server, tmp.dir, 'leader', '/C=VN/O=UBND tỉnh Thử nghiệm/CN=Phạm Văn Lãnh Đạo');
    });
    afterAll(async () => {
      await server?.stop().catch(() => {});
      tmp?.remove();
    });

    test('sign --level B-LTA: qpdf and pdfsig accept it; verify --offline is valid with the DSS line', async () => {
      const r = await sign('lta.pdf', 'B-LTA', ['--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ level: 'B-LTA', problems: [] });
      const pdf = readFileSync(at('lta.pdf'));
      expect(qpdfCheck(tmp.dir, pdf, 'lta-qpdf').ok).toBe(true);
      const p = pdfsig(tmp.dir, pdf, 'lta-pdfsig');
      expect(p.signatures, p.output).toHaveLength(2);
      expect(p.signatures[0].validation, p.output).toBe('Signature is Valid.');
      const v = await verify('lta.pdf', ['--offline']);
      expect(v.code, v.stdout).toBe(0);
      // Embedded data says so, and when it was produced.
      const time = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00`;
      expect(v.stdout).toMatch(
        new RegExp(
          `Tình trạng thu hồi: chưa bị thu hồi \\(theo OCSP nhúng trong tài liệu, lập lúc ${time}\\)`,
        ),
      );
      const en = await verify('lta.pdf', ['--offline', '--lang', 'en']);
      expect(en.stdout).toMatch(
        new RegExp(
          `Revocation status: not revoked \\(from the OCSP embedded in the document, produced at ${time}\\)`,
        ),
      );
      expect(en.stdout).toMatch(/Certificate serial number: [0-9A-F]+\n/);
    });

    test('sign --level B-T, then extend to B-LT: valid offline; B-T alone is checked online', async () => {
      expect((await sign('bt.pdf', 'B-T')).code).toBe(0);
      const offline = await verify('bt.pdf', ['--offline', '--json']);
      expect(offline.code).toBe(2);
      expect(JSON.parse(offline.stdout).signatures[0].reasons).toEqual(['revocation-unknown']);
      const online = await verify('bt.pdf', ['--timeout', '5']);
      expect(online.code, online.stdout).toBe(0);
      expect(online.stdout).toContain('(theo OCSP trực tuyến, lập lúc ');
      const x = await kysoAsync([
        'pdf',
        'extend',
        at('bt.pdf'),
        '--out',
        at('bt-lt.pdf'),
        '--level',
        'B-LT',
        '--chain',
        server.rootPem,
      ]);
      expect(x.code, x.stderr).toBe(0);
      expect(x.stderr).toBe('');
      expect((await verify('bt-lt.pdf', ['--offline'])).code).toBe(0);
    });

    test('usage errors: extend without --out, B-LTA without --tsa, a bad --timeout', async () => {
      for (const args of [
        ['extend', at('bt.pdf')],
        ['extend', at('bt.pdf'), '--out', at('x.pdf'), '--level', 'B-LTA'],
        ['extend', at('bt.pdf'), '--out', at('x.pdf'), '--level', 'B-B'],
      ]) {
        const r = await kysoAsync(['pdf', ...args]);
        expect(r.code, args.join(' ')).toBe(3);
        expect(r.stderr).toMatch(/^kyso: /);
      }
      const t = await verify('bt.pdf', ['--timeout', 'soon']);
      expect(t.code).toBe(3);
    });

    test('when the services are gone: B-LT stays valid offline and online; B-T is indeterminate', async () => {
      await server.stop();
      expect((await verify('lta.pdf')).code).toBe(0);
      expect((await verify('bt-lt.pdf', ['--timeout', '2'])).code).toBe(0);
      const r = await verify('bt.pdf', ['--timeout', '2', '--lang', 'en']);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain('the revocation status cannot be determined');
      expect(r.stdout).toContain('Revocation status: cannot be determined');
    });
  },
);
