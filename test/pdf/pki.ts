import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PdfSigner, TimeStampCallback } from '../../src/pdf/index.js';
import {
  buildCertificate,
  buildTimeStampToken,
  encodeName,
  ext,
  type KeyUsageName,
  keyIdentifier,
  OID,
  parseName,
  randomSerial,
  type SignatureAlgorithm,
  toPem,
} from '../../src/pki/index.js';
import { makeKey, rawSign, signFunction, type TestKey, testCaCertificate } from '../support/keys.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;

export { makeKey, rawSign, type TestKey } from '../support/keys.js';

/** A key wrapped as the structural signer pdf/ takes. */
export function signerOf(key: TestKey, algorithm: SignatureAlgorithm): PdfSigner {
  return { algorithm, publicKey: key.spki, sign: async (data) => rawSign(key.privateKey, algorithm, data) };
}

/** A test hierarchy: root → issuing CA → signer leaves, and a TSA under the issuing CA. */
export interface TestPki {
  root: Uint8Array;
  issuing: Uint8Array;
  issuingKey: TestKey;
  tsa: Uint8Array;
  tsaKey: TestKey;
  /** A leaf certificate for a key, with digitalSignature and nonRepudiation unless usages are given. */
  leaf(
    key: TestKey,
    cn: string,
    options?: { notBefore?: Date; notAfter?: Date; usages?: KeyUsageName[] },
  ): Promise<Uint8Array>;
  /** A token from the TSA whose message imprint is the given SHA-256 digest. */
  tokenFor(imprint: Uint8Array, genTime?: Date): Promise<Uint8Array>;
  /** A B-T callback: a token over the SHA-256 of the signature value. */
  timestamp(genTime?: Date): TimeStampCallback;
  /** Writes root.pem, issuing.pem and tsa.pem into dir. */
  writePems(dir: string): { root: string; issuing: string; tsa: string };
}

/** Builds the hierarchy with ECDSA CA keys. */
export async function makePki(): Promise<TestPki> {
  const now = Date.now();
  const rootKey = makeKey('ec');
  const issuingKey = makeKey('ec');
  const tsaKey = makeKey('ec');
  const rootName = encodeName(parseName('C=VN, O=Kyso thử nghiệm, CN=Kyso PDF Test Root'));
  const issuingName = encodeName(parseName('C=VN, O=Kyso thử nghiệm, CN=Kyso PDF Test Issuing CA'));
  const root = await testCaCertificate(rootName, rootKey, rootName, rootKey);
  const issuing = await testCaCertificate(issuingName, issuingKey, rootName, rootKey);
  const endEntity = (
    key: TestKey,
    subject: string,
    extra: ReturnType<typeof ext.keyUsage>[],
    notBefore: Date,
    notAfter: Date,
  ) =>
    buildCertificate(
      {
        serial: randomSerial(),
        issuer: issuingName,
        subject: parseName(subject),
        notBefore,
        notAfter,
        publicKey: key.spki,
        signatureAlgorithm: 'ECDSA-SHA256',
        extensions: [
          ext.basicConstraints(false),
          ...extra,
          ext.subjectKeyIdentifier(keyIdentifier(key.spki)),
          ext.authorityKeyIdentifier(keyIdentifier(issuingKey.spki)),
        ],
      },
      signFunction(issuingKey, 'ECDSA-SHA256'),
    );
  const tsa = await endEntity(
    tsaKey,
    'C=VN, O=Kyso thử nghiệm, CN=Kyso PDF Test TSA',
    [ext.keyUsage(['digitalSignature']), ext.extendedKeyUsage([OID.ekuTimeStamping], true)],
    new Date(now - YEAR),
    new Date(now + 5 * YEAR),
  );
  let serial = 1;
  const tokenFor = (imprint: Uint8Array, genTime?: Date) =>
    buildTimeStampToken({
      request: { hashAlgorithm: 'sha256', messageImprint: imprint, certReq: true, hasExtensions: false },
      policy: '1.3.6.1.4.1.65432.1.1',
      serial: Uint8Array.of(serial++),
      genTime: genTime ?? new Date(),
      tsaCertificate: tsa,
      chain: [issuing],
      signatureAlgorithm: 'ECDSA-SHA256',
      sign: signFunction(tsaKey, 'ECDSA-SHA256'),
    });
  return {
    root,
    issuing,
    issuingKey,
    tsa,
    tsaKey,
    leaf: (key, cn, options = {}) =>
      endEntity(
        key,
        `C=VN, L=Hà Nội, O=UBND tỉnh Thử nghiệm, OU=Văn phòng, CN=${cn}`,
        [ext.keyUsage(options.usages ?? ['digitalSignature', 'nonRepudiation'])],
        options.notBefore ?? new Date(now - DAY),
        options.notAfter ?? new Date(now + YEAR),
      ),
    tokenFor,
    timestamp: (genTime) => async (signatureValue) =>
      tokenFor(new Uint8Array(createHash('sha256').update(signatureValue).digest()), genTime),
    writePems(dir) {
      const files = {
        root: path.join(dir, 'root.pem'),
        issuing: path.join(dir, 'issuing.pem'),
        tsa: path.join(dir, 'tsa.pem'),
      };
      writeFileSync(files.root, toPem('CERTIFICATE', root));
      writeFileSync(files.issuing, toPem('CERTIFICATE', issuing));
      writeFileSync(files.tsa, toPem('CERTIFICATE', tsa));
      return files;
    },
  };
}
