import {
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  getCiphers,
  type KeyObject,
  pbkdf2Sync,
  sign,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import {
  algorithmFitsKey,
  defaultSignatureAlgorithm,
  hashOf,
  type SignatureAlgorithm,
} from '../pki/algorithms.js';
import {
  bytesOf,
  children,
  contentOf,
  decodeDer,
  expectTag,
  readOid,
  readSmallInt,
  TAG,
  type Tlv,
} from '../pki/der.js';
import { PkiError } from '../pki/index.js';
import { KeyError } from './errors.js';
import { type Signer, signOptions } from './signer.js';
import { specOf } from './spki.js';

// PKCS#12 (RFC 7292) as OpenSSL writes it: an AuthenticatedSafe of SafeContents, each plain or
// password-encrypted, holding a shrouded key bag and certificate bags, under a password-keyed MAC.

/** A key and its certificates from a PKCS#12 file. */
export interface Pkcs12Contents {
  privateKey: KeyObject;
  /** The certificate whose public key is the private key's, DER. */
  certificate: Uint8Array;
  /** The other certificates in the file, DER, in file order. */
  chain: Uint8Array[];
}

// A PFX holds a key and a few certificates; anything larger is not one.
const MAX_BYTES = 1024 * 1024;
// OpenSSL writes 2048 iterations. A crafted file must not buy minutes of CPU, neither with one count
// nor with many encrypted bags: each derivation is bounded, and so is their sum, counted in rounds of
// OpenSSL's PBKDF2 (about 0.3 µs each, so 10,000,000 is about 3 s). PKCS#12's own derivation (the MAC,
// legacy bags) runs here in JavaScript, each round costing about ten of those.
const MAX_ITERATIONS = 1_000_000;
const MAX_ROUNDS = 10_000_000;
const JS_ROUND_COST = 10;

/** The key-derivation rounds one file may still spend. */
class KdfBudget {
  private left = MAX_ROUNDS;

  spend(rounds: number): void {
    this.left -= rounds;
    if (this.left < 0)
      throw invalid(`its key derivations would take more than ${MAX_ROUNDS.toLocaleString('en-US')} rounds`);
  }
}

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1Rc2_128: '1.2.840.113549.1.12.1.5',
  pbeSha1Rc2_40: '1.2.840.113549.1.12.1.6',
} as const;

const DIGESTS: Record<string, { hash: string; block: number; size: number }> = {
  '1.3.14.3.2.26': { hash: 'sha1', block: 64, size: 20 },
  '2.16.840.1.101.3.4.2.1': { hash: 'sha256', block: 64, size: 32 },
  '2.16.840.1.101.3.4.2.2': { hash: 'sha384', block: 128, size: 48 },
  '2.16.840.1.101.3.4.2.3': { hash: 'sha512', block: 128, size: 64 },
};
const HMACS: Record<string, { hash: string; size: number }> = {
  '1.2.840.113549.2.7': { hash: 'sha1', size: 20 },
  '1.2.840.113549.2.9': { hash: 'sha256', size: 32 },
  '1.2.840.113549.2.10': { hash: 'sha384', size: 48 },
  '1.2.840.113549.2.11': { hash: 'sha512', size: 64 },
};
const AES: Record<string, { cipher: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32 },
};

function invalid(why: string): KeyError {
  return new KeyError('invalid-input', `not a readable PKCS#12 file: ${why}`);
}

function octets(buf: Uint8Array, t: Tlv | undefined, what: string): Uint8Array {
  return contentOf(buf, expectTag(t, TAG.octetString, what));
}

function oidOf(buf: Uint8Array, t: Tlv | undefined, what: string): string {
  return readOid(contentOf(buf, expectTag(t, TAG.oid, what)));
}

function iterations(buf: Uint8Array, t: Tlv | undefined): number {
  const n = t ? readSmallInt(contentOf(buf, expectTag(t, TAG.integer, 'iterations'))) : 1;
  if (n < 1 || n > MAX_ITERATIONS)
    throw invalid(`${n} iterations is out of bounds (at most ${MAX_ITERATIONS.toLocaleString('en-US')})`);
  return n;
}

/** The [0] EXPLICIT content of a ContentInfo-like structure. */
function explicitZero(buf: Uint8Array, t: Tlv | undefined, what: string): Tlv {
  const [inner] = children(buf, expectTag(t, 0xa0, what));
  if (!inner) throw invalid(`${what} is empty`);
  return inner;
}

/** The password as PKCS#12 key derivation takes it: UTF-16BE with a two-byte terminator. */
function bmpPassword(password: string): Buffer {
  const out = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** The key derivation of RFC 7292 appendix B: id 1 key, 2 IV, 3 MAC key. */
function pkcs12Kdf(
  password: Buffer,
  salt: Uint8Array,
  id: number,
  rounds: number,
  size: number,
  digest: { hash: string; block: number; size: number },
  budget: KdfBudget,
): Buffer {
  budget.spend(rounds * Math.ceil(size / digest.size) * JS_ROUND_COST);
  const v = digest.block;
  const fill = (src: Uint8Array) => {
    const out = Buffer.alloc(src.length ? v * Math.ceil(src.length / v) : 0);
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
    return out;
  };
  const I = Buffer.concat([fill(salt), fill(password)]);
  const D = Buffer.alloc(v, id);
  const parts: Buffer[] = [];
  let produced = 0;
  while (produced < size) {
    let A = createHash(digest.hash).update(D).update(I).digest();
    for (let r = 1; r < rounds; r++) A = createHash(digest.hash).update(A).digest();
    parts.push(A);
    produced += A.length;
    // I_j = (I_j + B + 1) mod 2^(8v), with B the hash repeated to v bytes.
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(parts).subarray(0, size);
}

/** Checks the MAC over the AuthenticatedSafe: the one place a wrong password shows for sure. */
function checkMac(
  buf: Uint8Array,
  macData: Tlv,
  authSafe: Uint8Array,
  password: string,
  budget: KdfBudget,
): void {
  const [digestInfo, saltT, iterT] = children(buf, expectTag(macData, TAG.sequence, 'MacData'));
  const [algId, valueT] = children(buf, expectTag(digestInfo, TAG.sequence, 'DigestInfo'));
  const digestOid = oidOf(
    buf,
    children(buf, expectTag(algId, TAG.sequence, 'digest algorithm'))[0],
    'digest',
  );
  const digest = DIGESTS[digestOid];
  if (!digest) throw new KeyError('unsupported', `PKCS#12 MAC digest ${digestOid} is not supported`);
  const expected = octets(buf, valueT, 'MAC value');
  const salt = octets(buf, saltT, 'MAC salt');
  // An HMAC is as long as its hash; a longer "MAC" would only make the derivation run longer.
  if (expected.length !== digest.size) throw invalid('the MAC is not as long as its digest');
  const n = iterations(buf, iterT);
  const key = pkcs12Kdf(bmpPassword(password), salt, 3, n, expected.length, digest, budget);
  const mac = createHmac(digest.hash, key).update(authSafe).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
    throw new KeyError('wrong-passphrase', 'wrong PKCS#12 password (the MAC does not verify)');
}

/** Decrypts password-encrypted content: PBES2 (PBKDF2 + AES-CBC) or PKCS#12 PBE with 3DES. */
function decrypt(
  buf: Uint8Array,
  algorithm: Tlv,
  data: Uint8Array,
  password: string,
  budget: KdfBudget,
): Buffer {
  const [oidT, paramsT] = children(buf, expectTag(algorithm, TAG.sequence, 'encryption algorithm'));
  const scheme = oidOf(buf, oidT, 'encryption algorithm');
  let cipher: string;
  let key: Buffer;
  let iv: Uint8Array;
  if (scheme === OIDS.pbes2) {
    const [kdfT, encT] = children(buf, expectTag(paramsT, TAG.sequence, 'PBES2 parameters'));
    const [kdfOid, kdfParams] = children(buf, expectTag(kdfT, TAG.sequence, 'key derivation'));
    if (oidOf(buf, kdfOid, 'key derivation') !== OIDS.pbkdf2)
      throw new KeyError('unsupported', 'PBES2 with another key derivation than PBKDF2 is not supported');
    const p = children(buf, expectTag(kdfParams, TAG.sequence, 'PBKDF2 parameters'));
    const salt = octets(buf, p[0], 'PBKDF2 salt');
    const n = iterations(buf, p[1]);
    // keyLength is optional; the PRF defaults to HMAC-SHA1.
    const rest = p.slice(2).filter((t) => t.tag === TAG.sequence);
    const prfOid = rest[0] ? oidOf(buf, children(buf, rest[0])[0], 'PRF') : '1.2.840.113549.2.7';
    const prf = HMACS[prfOid];
    if (!prf) throw new KeyError('unsupported', `PBKDF2 PRF ${prfOid} is not supported`);
    const [encOid, ivT] = children(buf, expectTag(encT, TAG.sequence, 'encryption scheme'));
    const aes = AES[oidOf(buf, encOid, 'encryption scheme')];
    if (!aes) throw new KeyError('unsupported', 'PBES2 with another cipher than AES-CBC is not supported');
    cipher = aes.cipher;
    iv = octets(buf, ivT, 'IV');
    budget.spend(n * Math.ceil(aes.keyLength / prf.size));
    key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, n, aes.keyLength, prf.hash);
  } else if (scheme === OIDS.pbeSha1TripleDes) {
    const [saltT, iterT] = children(buf, expectTag(paramsT, TAG.sequence, 'PBE parameters'));
    const salt = octets(buf, saltT, 'PBE salt');
    const n = iterations(buf, iterT);
    const sha1 = DIGESTS['1.3.14.3.2.26'];
    cipher = 'des-ede3-cbc';
    key = pkcs12Kdf(bmpPassword(password), salt, 1, n, 24, sha1, budget);
    iv = pkcs12Kdf(bmpPassword(password), salt, 2, n, 8, sha1, budget);
  } else if (scheme === OIDS.pbeSha1Rc2_40 || scheme === OIDS.pbeSha1Rc2_128) {
    const [saltT, iterT] = children(buf, expectTag(paramsT, TAG.sequence, 'PBE parameters'));
    const salt = octets(buf, saltT, 'PBE salt');
    const n = iterations(buf, iterT);
    const sha1 = DIGESTS['1.3.14.3.2.26'];
    const bits = scheme === OIDS.pbeSha1Rc2_40 ? 40 : 128;
    const rc2Key = pkcs12Kdf(bmpPassword(password), salt, 1, n, bits / 8, sha1, budget);
    const rc2Iv = pkcs12Kdf(bmpPassword(password), salt, 2, n, 8, sha1, budget);
    return rc2CbcDecrypt(rc2Key, bits, rc2Iv, data);
  } else {
    throw new KeyError('unsupported', `PKCS#12 encryption ${scheme} is not supported`);
  }
  if (!getCiphers().includes(cipher)) throw new KeyError('unsupported', `${cipher} is not available`);
  try {
    const d = createDecipheriv(cipher, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new KeyError('wrong-passphrase', 'wrong PKCS#12 password (decryption failed)');
  }
}

// RFC 2268's PITABLE: the permutation of pi's digits that RC2's key schedule uses.
const PITABLE = Buffer.from(
  'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e8254d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb6266fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b255597312d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad',
  'hex',
);
const RC2_SHIFTS = [1, 2, 3, 5];

/**
 * RC2-CBC decryption (RFC 2268) for the certificate bags `openssl pkcs12 -legacy` writes: Node's
 * OpenSSL 3 has RC2 only in the legacy provider, which it does not load. Certificates are public and
 * the MAC has already vouched for the bytes, so this cipher protects nothing we rely on.
 */
function rc2CbcDecrypt(key: Uint8Array, effectiveBits: number, iv: Uint8Array, data: Uint8Array): Buffer {
  const L = new Uint8Array(128);
  L.set(key);
  for (let i = key.length; i < 128; i++) L[i] = PITABLE[(L[i - 1] + L[i - key.length]) & 0xff];
  const t8 = Math.ceil(effectiveBits / 8);
  L[128 - t8] = PITABLE[L[128 - t8] & (0xff >> (8 * t8 - effectiveBits))];
  for (let i = 127 - t8; i >= 0; i--) L[i] = PITABLE[L[i + 1] ^ L[i + t8]];
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i] | (L[2 * i + 1] << 8);
  if (data.length === 0 || data.length % 8 !== 0) throw invalid('RC2 data is not whole blocks');
  const out = Buffer.alloc(data.length);
  // A Uint16Array wraps every store modulo 2^16, as RC2's word arithmetic needs.
  const R = new Uint16Array(4);
  let j = 0;
  const mix = () => {
    for (let i = 3; i >= 0; i--) {
      const s = RC2_SHIFTS[i];
      R[i] = (R[i] >>> s) | (R[i] << (16 - s));
      R[i] = R[i] - K[j--] - (R[(i + 3) & 3] & R[(i + 2) & 3]) - (~R[(i + 3) & 3] & R[(i + 1) & 3]);
    }
  };
  const mash = () => {
    for (let i = 3; i >= 0; i--) R[i] = R[i] - K[R[(i + 3) & 3] & 63];
  };
  let previous = iv;
  for (let off = 0; off < data.length; off += 8) {
    for (let i = 0; i < 4; i++) R[i] = data[off + 2 * i] | (data[off + 2 * i + 1] << 8);
    j = 63;
    for (let r = 0; r < 5; r++) mix();
    mash();
    for (let r = 0; r < 6; r++) mix();
    mash();
    for (let r = 0; r < 5; r++) mix();
    for (let i = 0; i < 4; i++) {
      out[off + 2 * i] = (R[i] & 0xff) ^ previous[2 * i];
      out[off + 2 * i + 1] = (R[i] >> 8) ^ previous[2 * i + 1];
    }
    previous = data.subarray(off, off + 8);
  }
  const pad = out[out.length - 1];
  if (pad < 1 || pad > 8 || out.subarray(out.length - pad).some((b) => b !== pad))
    throw new KeyError('wrong-passphrase', 'wrong PKCS#12 password (decryption failed)');
  return out.subarray(0, out.length - pad);
}

/** The SafeBags of one AuthenticatedSafe entry, decrypting it when it is EncryptedData. */
function safeContents(
  buf: Uint8Array,
  contentInfo: Tlv,
  password: string,
  budget: KdfBudget,
): { buf: Uint8Array; bags: Tlv[] } {
  const [typeT, contentT] = children(buf, expectTag(contentInfo, TAG.sequence, 'ContentInfo'));
  const type = oidOf(buf, typeT, 'content type');
  let der: Uint8Array;
  if (type === OIDS.data) {
    der = octets(buf, explicitZero(buf, contentT, 'data'), 'data');
  } else if (type === OIDS.encryptedData) {
    const [, eci] = children(
      buf,
      expectTag(explicitZero(buf, contentT, 'EncryptedData'), TAG.sequence, 'EncryptedData'),
    );
    const [, algT, encT] = children(buf, expectTag(eci, TAG.sequence, 'EncryptedContentInfo'));
    if (!encT) throw invalid('EncryptedData has no content');
    // [0] IMPLICIT OCTET STRING: primitive, or constructed from segments.
    const encrypted =
      encT.tag === 0x80
        ? contentOf(buf, encT)
        : encT.tag === 0xa0
          ? Buffer.concat(children(buf, encT).map((s) => octets(buf, s, 'encrypted segment')))
          : undefined;
    if (!encrypted) throw invalid('EncryptedData content has an unexpected tag');
    der = decrypt(buf, algT, encrypted, password, budget);
  } else {
    throw new KeyError('unsupported', `PKCS#12 content type ${type} is not supported`);
  }
  const top = decodeDer(der, MAX_BYTES);
  return { buf: der, bags: children(der, expectTag(top, TAG.sequence, 'SafeContents')) };
}

/** Reads a PKCS#12 file: checks its MAC with the password, decrypts its key and certificates. */
export function readPkcs12(p12: Uint8Array, password: string): Pkcs12Contents {
  try {
    return readPfx(p12, password);
  } catch (e) {
    if (e instanceof PkiError) throw invalid(e.message);
    throw e;
  }
}

function readPfx(p12: Uint8Array, password: string): Pkcs12Contents {
  const pfx = decodeDer(p12, MAX_BYTES);
  const [versionT, authSafeT, macT] = children(p12, expectTag(pfx, TAG.sequence, 'PFX'));
  if (readSmallInt(contentOf(p12, expectTag(versionT, TAG.integer, 'version'))) !== 3)
    throw invalid('version is not 3');
  const [typeT, contentT] = children(p12, expectTag(authSafeT, TAG.sequence, 'authSafe'));
  if (oidOf(p12, typeT, 'authSafe type') !== OIDS.data)
    throw new KeyError('unsupported', 'public-key integrity mode PKCS#12 files are not supported');
  const authSafe = octets(p12, explicitZero(p12, contentT, 'authSafe'), 'authSafe');
  // Without a MAC a wrong password would only show as garbage; OpenSSL always writes one.
  if (!macT) throw new KeyError('unsupported', 'PKCS#12 files without a MAC are not supported');
  const budget = new KdfBudget();
  checkMac(p12, macT, authSafe, password, budget);
  const keys: KeyObject[] = [];
  const certs: Uint8Array[] = [];
  const top = decodeDer(authSafe, MAX_BYTES);
  for (const ci of children(authSafe, expectTag(top, TAG.sequence, 'AuthenticatedSafe'))) {
    const { buf, bags } = safeContents(authSafe, ci, password, budget);
    for (const bag of bags) {
      const [idT, valueT] = children(buf, expectTag(bag, TAG.sequence, 'SafeBag'));
      const id = oidOf(buf, idT, 'bag type');
      const value = explicitZero(buf, valueT, 'bag value');
      if (id === OIDS.shroudedKeyBag) keys.push(shroudedKey(buf, value, password, budget));
      else if (id === OIDS.keyBag)
        keys.push(createPrivateKey({ key: Buffer.from(bytesOf(buf, value)), format: 'der', type: 'pkcs8' }));
      else if (id === OIDS.certBag) {
        const [certIdT, certValueT] = children(buf, expectTag(value, TAG.sequence, 'CertBag'));
        // Other certificate types (SDSI) are not X.509 and have no place in a chain.
        if (oidOf(buf, certIdT, 'certificate type') === OIDS.x509Certificate)
          certs.push(
            Uint8Array.from(octets(buf, explicitZero(buf, certValueT, 'certificate'), 'certificate')),
          );
      }
    }
  }
  if (keys.length !== 1) throw invalid(`expected one private key, found ${keys.length}`);
  const [privateKey] = keys;
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const index = certs.findIndex((c) => {
    try {
      return (
        Buffer.compare(new X509Certificate(c).publicKey.export({ type: 'spki', format: 'der' }), spki) === 0
      );
    } catch {
      return false;
    }
  });
  if (index < 0) throw invalid("no certificate for the file's private key");
  return { privateKey, certificate: certs[index], chain: certs.filter((_, i) => i !== index) };
}

/**
 * A PKCS#8 EncryptedPrivateKeyInfo, decrypted here rather than by OpenSSL so that its iteration count is
 * bounded like every other derivation in the file.
 */
function shroudedKey(buf: Uint8Array, bag: Tlv, password: string, budget: KdfBudget): KeyObject {
  const [algT, dataT] = children(buf, expectTag(bag, TAG.sequence, 'EncryptedPrivateKeyInfo'));
  const der = decrypt(buf, algT, octets(buf, dataT, 'encrypted key'), password, budget);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    // Padding that happened to check out under a wrong password leaves bytes that are no key.
    throw new KeyError('wrong-passphrase', 'wrong PKCS#12 password (the key does not decrypt)');
  }
}

/** A signer for a PKCS#12 key: ECDSA, or RSA-PSS by default for RSA (TT 15/2025). */
export function p12Signer(p12: Pick<Pkcs12Contents, 'privateKey'>, algorithm?: SignatureAlgorithm): Signer {
  const key = p12.privateKey;
  const spec = specOf(key);
  const alg = algorithm ?? defaultSignatureAlgorithm(spec);
  if (!algorithmFitsKey(alg, spec))
    throw new KeyError('algorithm-mismatch', `${alg} does not fit the PKCS#12 key (${spec})`);
  const hash = hashOf(alg);
  const options = signOptions(key, alg);
  return Object.freeze({
    algorithm: alg,
    publicKey: Uint8Array.from(createPublicKey(key).export({ type: 'spki', format: 'der' })),
    sign: (data: Uint8Array) =>
      new Promise<Uint8Array>((resolve, reject) =>
        sign(hash, data, options, (err, sig) => (err ? reject(err) : resolve(sig))),
      ),
  });
}
