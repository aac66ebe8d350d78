import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CertificateAuthority } from '../src/ca/index.js';
import {
  buildOcspRequest,
  type ParsedCertificate,
  parseCertificate,
  parseOcspResponse,
  randomSerial,
  serialFromHex,
} from '../src/pki/index.js';
import { OcspResponder } from '../src/va/index.js';
import { initTestCa, opensslCsr, type TestCa, testEnv } from './support/ca.js';
import { describeWith, tempDir, testDatabases } from './support/env.js';

const OPTIONS = { validityHours: 24, maxCached: 10_000 };
// Revocations started 0…SPREAD event-loop turns after the first OCSP request, so that over the
// batch each step of the request (stored-answer read, status read, signing, store) meets one.
const SPREAD = 16;
const PER_OFFSET = 4;

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

for (const { db, missing } of testDatabases()) {
  describeWith(missing, `OCSP status under racing revocations on ${db.name}`, () => {
    let t: TestCa;
    let other: CertificateAuthority;
    let tmp: ReturnType<typeof tempDir>;
    let drop: () => Promise<void>;
    let issuer: ParsedCertificate;
    let csr: Buffer;

    beforeAll(async () => {
      tmp = tempDir();
      const e = await testEnv(db, { kind: 'soft' });
      drop = e.drop;
      t = await initTestCa(tmp.dir, e.env);
      // Another process's CA: its own connections, and it tells this process's responder nothing.
      other = await CertificateAuthority.open(t.config);
      issuer = parseCertificate((await t.ca.chain())[0].certificate);
      csr = readFileSync(opensslCsr(tmp.dir, 'race', 'ec-p256', '/C=VN/O=Sở Nội vụ/CN=Race').csr);
    });
    afterAll(async () => {
      await other?.close();
      await t?.close();
      await drop?.();
      tmp?.remove();
    });

    const request = (serial: string) => buildOcspRequest([{ issuer, serial: serialFromHex(serial) }]);
    const statusOf = async (responder: OcspResponder, serial: string) =>
      parseOcspResponse((await responder.respond(request(serial))).der).responses[0].status;

    const issueMany = async (n: number) => {
      const serials: string[] = [];
      for (let i = 0; i < n; i++)
        serials.push((await t.ca.issue({ csr, profile: 'individual', actor: 'test' })).serial);
      return serials;
    };

    test('a revocation racing the first OCSP request is never answered "good" afterwards', async () => {
      const responder = await OcspResponder.open(t.ca, OPTIONS);
      await responder.ready();
      const serials = await issueMany(SPREAD * PER_OFFSET);
      // Half revoked by this process (its responder hears of it), half by another (it does not). One
      // revocation at a time: concurrent revocations contend for the audit chain's head, not the point here.
      for (const [i, serial] of serials.entries()) {
        const first = responder.respond(request(serial));
        await turns(i % SPREAD);
        await (i % 2 === 0 ? t.ca : other).revoke(serial, { reason: 'keyCompromise', actor: 'test' });
        await first;
      }
      // This process's responder, from memory or the database.
      for (const [i, serial] of serials.entries()) {
        if (i % 2 === 0)
          expect({ serial, status: await statusOf(responder, serial) }).toEqual({
            serial,
            status: 'revoked',
          });
      }
      // After a restart (or on another node) only the stored answers remain: none may be a stale "good".
      const restarted = await OcspResponder.open(t.ca, OPTIONS);
      for (const serial of serials) {
        expect({ serial, status: await statusOf(restarted, serial) }).toEqual({ serial, status: 'revoked' });
      }
    });

    test('answers about unknown serials under our issuer are not stored', async () => {
      const responder = await OcspResponder.open(t.ca, OPTIONS);
      const rows = async () =>
        Number(
          (
            await t.ca.store.kysely
              .selectFrom('ocsp_responses')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await rows();
      for (let i = 0; i < 200; i++) {
        const answer = parseOcspResponse(
          (await responder.respond(buildOcspRequest([{ issuer, serial: randomSerial() }]))).der,
        );
        expect(answer.responses[0].status).toBe('unknown');
      }
      expect(await rows()).toBe(before);
      // A known certificate's answer is still stored, so a restart does not re-sign it.
      const [serial] = await issueMany(1);
      await responder.respond(request(serial));
      expect(await rows()).toBe(before + 1);
    });
  });
}
