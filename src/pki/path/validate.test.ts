import { describe, expect, test } from 'vitest';
import { makeKey, signFunction, type TestKey } from '../../../test/support/keys.js';
import { buildCertificate } from '../certificate.js';
import { buildCrl } from '../crl.js';
import { type Extension, ext, keyIdentifier } from '../extensions.js';
import { encodeName, parseName } from '../name.js';
import { validatePath } from './index.js';

// Path building with backtracking, on hierarchies made here: several issuers with one name, a
// cross-certificate, a root key rollover, AIA fetching, loops; and revocation's three outcomes.

const DAY = 86_400_000;
const AT = new Date();
let serial = 1;

interface Party {
  name: Uint8Array;
  key: TestKey;
}

function party(dn: string, key = makeKey()): Party {
  return { name: encodeName(parseName(dn)), key };
}

async function issue(
  subject: Party,
  issuer: Party,
  o: { ca?: boolean; expired?: boolean; aki?: boolean; extra?: Extension[] } = {},
): Promise<Uint8Array> {
  const extensions: Extension[] = [
    ext.basicConstraints(!!o.ca),
    ext.keyUsage(o.ca ? ['keyCertSign', 'cRLSign'] : ['digitalSignature']),
    ext.subjectKeyIdentifier(keyIdentifier(subject.key.spki)),
    ...(o.aki === false ? [] : [ext.authorityKeyIdentifier(keyIdentifier(issuer.key.spki))]),
    ...(o.extra ?? []),
  ];
  return buildCertificate(
    {
      serial: Uint8Array.of(serial++),
      issuer: issuer.name,
      subject: subject.name,
      notBefore: new Date(AT.getTime() - 10 * DAY),
      notAfter: new Date(AT.getTime() + (o.expired ? -DAY : 100 * DAY)),
      publicKey: subject.key.spki,
      signatureAlgorithm: 'ECDSA-SHA256',
      extensions,
    },
    signFunction(issuer.key, 'ECDSA-SHA256'),
  );
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

describe('path building', () => {
  test('two issuers share a name: the one whose signature fails is passed over for the other', async () => {
    const root = party('C=VN, O=Kyso, CN=Root');
    const subA = party('C=VN, O=Kyso, CN=Sub');
    const subB = party('C=VN, O=Kyso, CN=Sub');
    const rootCert = await issue(root, root, { ca: true });
    const certA = await issue(subA, root, { ca: true });
    const certB = await issue(subB, root, { ca: true });
    // Without an AKI the leaf gives no hint, so the pool's order puts the wrong issuer first.
    const leaf = await issue(party('C=VN, CN=Leaf'), subA, { aki: false });
    const r = await validatePath({
      target: leaf,
      anchors: [rootCert],
      intermediates: [certB, certA],
      at: AT,
    });
    expect(r.status).toBe('valid');
    expect(r.path).toHaveLength(3);
    expect(same(r.path[1], certA)).toBe(true);
  });

  test('an issuer whose signature verifies but whose branch fails is backtracked over', async () => {
    const root = party('C=VN, O=Kyso, CN=Root');
    const sub = party('C=VN, O=Kyso, CN=Sub');
    const rootCert = await issue(root, root, { ca: true });
    const expired = await issue(sub, root, { ca: true, expired: true });
    const current = await issue(sub, root, { ca: true });
    const leaf = await issue(party('C=VN, CN=Leaf'), sub);
    const r = await validatePath({
      target: leaf,
      anchors: [rootCert],
      intermediates: [expired, current],
      at: AT,
    });
    expect(r.status).toBe('valid');
    expect(same(r.path[1], current)).toBe(true);
    // With only the expired one, the failure says why.
    const only = await validatePath({ target: leaf, anchors: [rootCert], intermediates: [expired], at: AT });
    expect(only).toMatchObject({ status: 'invalid', code: 'expired' });
  });

  test('a cross-certificate leads from a foreign root to the trusted one', async () => {
    const trusted = party('C=VN, O=Kyso, CN=Trusted Root');
    const foreign = party('C=VN, O=Other, CN=Foreign Root');
    const sub = party('C=VN, O=Other, CN=Foreign Sub');
    const trustedCert = await issue(trusted, trusted, { ca: true });
    const foreignSelf = await issue(foreign, foreign, { ca: true });
    const cross = await issue(foreign, trusted, { ca: true });
    const subCert = await issue(sub, foreign, { ca: true });
    const leaf = await issue(party('C=VN, CN=Leaf'), sub);
    const r = await validatePath({
      target: leaf,
      anchors: [trustedCert],
      intermediates: [foreignSelf, subCert, cross],
      at: AT,
    });
    expect(r.status).toBe('valid');
    expect(r.path.map((d) => [leaf, subCert, cross, trustedCert].findIndex((x) => same(x, d)))).toEqual([
      0, 1, 2, 3,
    ]);
  });

  test('a root key rollover: the new key chains to the trusted old one through the link certificate', async () => {
    const oldRoot = party('C=VN, O=Kyso, CN=Root');
    const newRoot = party('C=VN, O=Kyso, CN=Root');
    const ca = party('C=VN, O=Kyso, CN=Issuing CA');
    const oldSelf = await issue(oldRoot, oldRoot, { ca: true });
    const newSelf = await issue(newRoot, newRoot, { ca: true });
    const newWithOld = await issue(newRoot, oldRoot, { ca: true });
    const caCert = await issue(ca, newRoot, { ca: true });
    const leaf = await issue(party('C=VN, CN=Leaf'), ca);
    const r = await validatePath({
      target: leaf,
      anchors: [oldSelf],
      intermediates: [newSelf, caCert, newWithOld],
      at: AT,
    });
    expect(r.status).toBe('valid');
    expect(r.path).toHaveLength(4);
    expect(same(r.path[2], newWithOld)).toBe(true);
    expect(same(r.path[3], oldSelf)).toBe(true);
  });

  test('AIA caIssuers: the injected hook fetches a missing issuer, once per URL', async () => {
    const root = party('C=VN, O=Kyso, CN=Root');
    const sub = party('C=VN, O=Kyso, CN=Sub');
    const rootCert = await issue(root, root, { ca: true });
    const subCert = await issue(sub, root, { ca: true });
    const url = 'http://repository.example.vn/sub.cer';
    const leaf = await issue(party('C=VN, CN=Leaf'), sub, {
      extra: [ext.authorityInfoAccess({ caIssuers: [url] })],
    });
    const asked: string[] = [];
    const fetchIssuers = async (u: string) => {
      asked.push(u);
      return [subCert];
    };
    const r = await validatePath({
      target: leaf,
      anchors: [rootCert],
      intermediates: [],
      at: AT,
      fetchIssuers,
    });
    expect(r.status).toBe('valid');
    expect(asked).toEqual([url]);
    const without = await validatePath({ target: leaf, anchors: [rootCert], intermediates: [], at: AT });
    expect(without).toMatchObject({ status: 'invalid', code: 'no-path' });
  });

  test('cross-certificates in a loop end the search without a path', async () => {
    const root = party('C=VN, CN=Root');
    const a = party('C=VN, CN=A');
    const b = party('C=VN, CN=B');
    const rootCert = await issue(root, root, { ca: true });
    const aByB = await issue(a, b, { ca: true });
    const bByA = await issue(b, a, { ca: true });
    const leaf = await issue(party('C=VN, CN=Leaf'), a);
    const r = await validatePath({ target: leaf, anchors: [rootCert], intermediates: [aByB, bByA], at: AT });
    expect(r).toMatchObject({ status: 'invalid', code: 'no-path' });
  });
});

describe('end-entity checks', () => {
  test('requiredKeyUsage: a leaf whose keyUsage lacks a required bit is refused', async () => {
    const root = party('C=VN, CN=Root');
    const rootCert = await issue(root, root, { ca: true });
    const leaf = await issue(party('C=VN, CN=Leaf'), root);
    const input = { target: leaf, anchors: [rootCert], intermediates: [], at: AT };
    expect(await validatePath({ ...input, requiredKeyUsage: ['digitalSignature'] })).toMatchObject({
      status: 'valid',
    });
    expect(await validatePath({ ...input, requiredKeyUsage: ['nonRepudiation'] })).toMatchObject({
      status: 'invalid',
      code: 'key-usage',
    });
  });

  test('the policies the path is valid for are reported', async () => {
    const root = party('C=VN, CN=Root');
    const rootCert = await issue(root, root, { ca: true });
    const leaf = await issue(party('C=VN, CN=Leaf'), root, {
      extra: [ext.certificatePolicies([{ oid: '1.2.3.4' }, { oid: '1.2.3.5' }])],
    });
    const input = { target: leaf, anchors: [rootCert], intermediates: [], at: AT };
    expect((await validatePath(input)).policies).toEqual(['1.2.3.4', '1.2.3.5']);
    expect(
      await validatePath({ ...input, initialPolicies: ['1.2.3.5'], explicitPolicy: true }),
    ).toMatchObject({
      status: 'valid',
      policies: ['1.2.3.5'],
    });
    expect(
      await validatePath({ ...input, initialPolicies: ['1.2.3.6'], explicitPolicy: true }),
    ).toMatchObject({
      status: 'invalid',
      code: 'policy',
    });
  });
});

describe('revocation', () => {
  async function hierarchy() {
    const root = party('C=VN, O=Kyso, CN=Root');
    const sub = party('C=VN, O=Kyso, CN=Sub');
    const rootCert = await issue(root, root, { ca: true });
    const subCert = await issue(sub, root, { ca: true });
    const leafSerial = serial;
    const leaf = await issue(party('C=VN, CN=Leaf'), sub);
    const crl = (
      issuer: Party,
      revoked: number[],
      reason: 'keyCompromise' | 'certificateHold' = 'keyCompromise',
    ) =>
      buildCrl(
        {
          issuer: issuer.name,
          thisUpdate: new Date(AT.getTime() - DAY),
          nextUpdate: new Date(AT.getTime() + DAY),
          number: 1n,
          signatureAlgorithm: 'ECDSA-SHA256',
          authorityKeyId: keyIdentifier(issuer.key.spki),
        },
        revoked.map((s) => ({
          serial: Uint8Array.of(s),
          revokedAt: new Date(AT.getTime() - DAY),
          reason,
        })),
        signFunction(issuer.key, 'ECDSA-SHA256'),
      );
    return { root, sub, rootCert, subCert, leaf, leafSerial, crl };
  }

  test('good with a CRL from every CA, revoked when listed, indeterminate when a CRL is missing', async () => {
    const h = await hierarchy();
    const input = {
      target: h.leaf,
      anchors: [h.rootCert],
      intermediates: [h.subCert],
      at: AT,
      checkRevocation: true,
    };
    const rootCrl = await h.crl(h.root, []);
    expect(await validatePath({ ...input, crls: [rootCrl, await h.crl(h.sub, [])] })).toMatchObject({
      status: 'valid',
    });
    expect(
      await validatePath({ ...input, crls: [rootCrl, await h.crl(h.sub, [h.leafSerial])] }),
    ).toMatchObject({
      status: 'invalid',
      code: 'revoked',
    });
    expect(await validatePath({ ...input, crls: [rootCrl] })).toMatchObject({
      status: 'indeterminate',
      code: 'revocation-unknown',
    });
    expect(
      await validatePath({
        ...input,
        crls: [rootCrl, await h.crl(h.sub, [h.leafSerial], 'certificateHold')],
      }),
    ).toMatchObject({ status: 'invalid', code: 'on-hold' });
    // A CRL signed by another key with the issuer's name does not count.
    const impostor = { name: h.sub.name, key: makeKey() };
    expect(await validatePath({ ...input, crls: [rootCrl, await h.crl(impostor, [])] })).toMatchObject({
      status: 'indeterminate',
    });
  });
});
