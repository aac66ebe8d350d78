import { createHash, createPublicKey } from 'node:crypto';
import type pkcs11js from 'pkcs11js';
import {
  algorithmFitsKey,
  type HashName,
  hashOf,
  KEY_SPECS,
  type KeySpec,
  type SignatureAlgorithm,
} from '../pki/algorithms.js';
import { ecdsaRawToDer } from './ecdsa-signature.js';
import { fromPkcs11, KeyError, pkcs11ReturnCode } from './errors.js';
import { acquireModule, ck, findToken, type Handle, type ModuleLease } from './pkcs11-module.js';
import { SessionPool } from './session-pool.js';
import {
  checkLabel,
  type GeneratedKey,
  HASH_BYTES,
  type KeyBackend,
  labelOf,
  type Signer,
} from './signer.js';
import { curveOf, specOf, spkiFromEcPoint, spkiFromRsa } from './spki.js';

/** How to reach a PKCS#11 token: library path, token label, user PIN, and how many sessions to keep. */
export interface Pkcs11Options {
  module: string;
  tokenLabel: string;
  pin: string;
  poolSize?: number;
}

const HASH_MECHANISMS: Record<HashName, { hash: number; mgf: number; pkcs1: number; pss: number }> = {
  sha256: {
    hash: ck.CKM_SHA256,
    mgf: ck.CKG_MGF1_SHA256,
    pkcs1: ck.CKM_SHA256_RSA_PKCS,
    pss: ck.CKM_SHA256_RSA_PKCS_PSS,
  },
  sha384: {
    hash: ck.CKM_SHA384,
    mgf: ck.CKG_MGF1_SHA384,
    pkcs1: ck.CKM_SHA384_RSA_PKCS,
    pss: ck.CKM_SHA384_RSA_PKCS_PSS,
  },
  sha512: {
    hash: ck.CKM_SHA512,
    mgf: ck.CKG_MGF1_SHA512,
    pkcs1: ck.CKM_SHA512_RSA_PKCS,
    pss: ck.CKM_SHA512_RSA_PKCS_PSS,
  },
};

// Labels being generated in this process, so two concurrent generateKey calls cannot both pass the check.
const generating = new Set<string>();

/** Opens a logged-in pool of sessions on the token labelled `tokenLabel`. */
export async function openPkcs11Backend(options: Pkcs11Options): Promise<KeyBackend> {
  const lease = acquireModule(options.module);
  let pool: SessionPool | undefined;
  try {
    const { slot } = findToken(lease.pkcs11, options.tokenLabel);
    pool = new SessionPool(lease.pkcs11, slot, options.poolSize ?? 4);
    login(lease, pool.first, slot, options.pin);
    return new Pkcs11KeyBackend(lease, pool, slot, `${options.module}\0${slot.toString('hex')}`);
  } catch (error) {
    await pool?.close();
    lease.release();
    throw error;
  }
}

function login(lease: ModuleLease, session: Handle, slot: Handle, pin: string): void {
  if (lease.holdLogin(slot, pin) === 'shared') return;
  try {
    lease.pkcs11.C_Login(session, ck.CKU_USER, pin);
  } catch (error) {
    lease.dropLogin(slot);
    if (pkcs11ReturnCode(error) === 'CKR_USER_ALREADY_LOGGED_IN') {
      // Someone outside keys/ logged in, so the PIN was never checked: fail closed.
      throw new KeyError('device-error', 'the token is already logged in outside Kyso key backends', {
        cause: error,
      });
    }
    throw fromPkcs11(error, 'C_Login');
  }
}

class Pkcs11KeyBackend implements KeyBackend {
  readonly kind = 'pkcs11';
  readonly #lease: ModuleLease;
  readonly #p11: pkcs11js.PKCS11;
  readonly #pool: SessionPool;
  readonly #slot: Handle;
  readonly #tokenKey: string;
  #closed = false;

  constructor(lease: ModuleLease, pool: SessionPool, slot: Handle, tokenKey: string) {
    this.#lease = lease;
    this.#p11 = lease.pkcs11;
    this.#pool = pool;
    this.#slot = slot;
    this.#tokenKey = tokenKey;
  }

  async generateKey(label: string, spec: KeySpec): Promise<GeneratedKey> {
    checkLabel(label);
    if (!KEY_SPECS.includes(spec)) throw new KeyError('unsupported', `unknown key spec ${spec}`);
    const claim = `${this.#tokenKey}\0${label}`;
    if (generating.has(claim)) throw new KeyError('key-exists', `pkcs11 key ${label} is being generated`);
    generating.add(claim);
    try {
      return await this.#pool.use(async (session) => {
        const id = idOf(label);
        if (
          this.#find(session, [{ type: ck.CKA_LABEL, value: label }]).length > 0 ||
          this.#find(session, [{ type: ck.CKA_ID, value: id }]).length > 0
        ) {
          throw new KeyError('key-exists', `pkcs11 key ${label} already exists`);
        }
        const common = [
          { type: ck.CKA_TOKEN, value: true },
          { type: ck.CKA_LABEL, value: label },
          { type: ck.CKA_ID, value: id },
        ];
        const ec = spec.startsWith('ec-');
        const publicTemplate = [
          ...common,
          { type: ck.CKA_CLASS, value: ck.CKO_PUBLIC_KEY },
          { type: ck.CKA_PRIVATE, value: false },
          { type: ck.CKA_VERIFY, value: true },
          ...(ec
            ? [{ type: ck.CKA_EC_PARAMS, value: curveOf(spec).params }]
            : [
                { type: ck.CKA_MODULUS_BITS, value: Number(spec.slice(4)) },
                { type: ck.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
                { type: ck.CKA_ENCRYPT, value: false },
                { type: ck.CKA_WRAP, value: false },
              ]),
        ];
        // A signing key only: never readable, never usable to decrypt, unwrap or derive.
        const privateTemplate = [
          ...common,
          { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
          { type: ck.CKA_PRIVATE, value: true },
          { type: ck.CKA_SENSITIVE, value: true },
          { type: ck.CKA_EXTRACTABLE, value: false },
          { type: ck.CKA_SIGN, value: true },
          ...(ec
            ? [{ type: ck.CKA_DERIVE, value: false }]
            : [
                { type: ck.CKA_DECRYPT, value: false },
                { type: ck.CKA_UNWRAP, value: false },
              ]),
        ];
        const mechanism = { mechanism: ec ? ck.CKM_EC_KEY_PAIR_GEN : ck.CKM_RSA_PKCS_KEY_PAIR_GEN };
        let pair: pkcs11js.KeyPair;
        try {
          pair = await this.#p11.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
        } catch (error) {
          throw fromPkcs11(error, `C_GenerateKeyPair ${spec}`);
        }
        return { ref: `pkcs11:${label}`, publicKey: this.#spki(session, pair.publicKey), spec };
      });
    } finally {
      generating.delete(claim);
    }
  }

  async signer(ref: string, algorithm: SignatureAlgorithm): Promise<Signer> {
    const label = labelOf(ref, 'pkcs11');
    const { privateKey, publicKey } = await this.#pool.use((session) => ({
      privateKey: this.#key(session, label, ck.CKO_PRIVATE_KEY),
      publicKey: this.#spki(session, this.#key(session, label, ck.CKO_PUBLIC_KEY)),
    }));
    const keyObject = createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
    const spec = specOf(keyObject);
    if (!algorithmFitsKey(algorithm, spec)) {
      throw new KeyError('algorithm-mismatch', `${algorithm} does not fit ${ref} (${spec})`);
    }
    const hash = hashOf(algorithm);
    const ecdsa = algorithm.startsWith('ECDSA');
    const mechanisms = HASH_MECHANISMS[hash];
    // SoftHSM and many HSMs lack CKM_ECDSA_SHA*: hash here, sign the digest on the device.
    const mechanism: pkcs11js.Mechanism = ecdsa
      ? { mechanism: ck.CKM_ECDSA }
      : algorithm.startsWith('RSA-PSS')
        ? {
            mechanism: mechanisms.pss,
            parameter: {
              type: ck.CK_PARAMS_RSA_PSS,
              hashAlg: mechanisms.hash,
              mgf: mechanisms.mgf,
              saltLen: HASH_BYTES[hash],
            } as pkcs11js.RsaPSS,
          }
        : { mechanism: mechanisms.pkcs1 };
    // Fail here, not on the CA's first issuance, if the token lacks the mechanism.
    let signs: boolean;
    try {
      signs = (this.#p11.C_GetMechanismInfo(this.#slot, mechanism.mechanism).flags & ck.CKF_SIGN) !== 0;
    } catch (error) {
      throw fromPkcs11(error, `${algorithm} on this token`);
    }
    if (!signs) throw new KeyError('unsupported', `${algorithm}: the token cannot sign with this mechanism`);
    const length = ecdsa ? 2 * curveOf(spec).size : (keyObject.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    const p11 = this.#p11;
    const pool = this.#pool;
    return Object.freeze({
      algorithm,
      publicKey,
      async sign(data: Uint8Array): Promise<Uint8Array> {
        const input = ecdsa
          ? createHash(hash).update(data).digest()
          : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        const signature = await pool.use(async (session) => {
          try {
            p11.C_SignInit(session, mechanism, privateKey);
            return await p11.C_SignAsync(session, input, Buffer.alloc(length));
          } catch (error) {
            throw fromPkcs11(error, `sign with ${ref}`);
          }
        });
        return ecdsa ? ecdsaRawToDer(signature) : signature;
      },
    });
  }

  async publicKey(ref: string): Promise<Uint8Array> {
    const label = labelOf(ref, 'pkcs11');
    return this.#pool.use((session) => this.#spki(session, this.#key(session, label, ck.CKO_PUBLIC_KEY)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#pool.close((session) => {
        if (this.#lease.dropLogin(this.#slot)) this.#p11.C_Logout(session);
      });
    } catch (error) {
      throw fromPkcs11(error, 'C_Logout');
    } finally {
      this.#lease.release();
    }
  }

  #find(session: Handle, template: pkcs11js.Template): Handle[] {
    try {
      this.#p11.C_FindObjectsInit(session, template);
      try {
        return this.#p11.C_FindObjects(session, 2);
      } finally {
        this.#p11.C_FindObjectsFinal(session);
      }
    } catch (error) {
      throw fromPkcs11(error, 'C_FindObjects');
    }
  }

  #key(session: Handle, label: string, keyClass: number): Handle {
    const found = this.#find(session, [
      { type: ck.CKA_CLASS, value: keyClass },
      { type: ck.CKA_ID, value: idOf(label) },
      { type: ck.CKA_LABEL, value: label },
    ]);
    const half = keyClass === ck.CKO_PRIVATE_KEY ? 'private' : 'public';
    if (found.length === 0)
      throw new KeyError('key-not-found', `no ${half} key pkcs11:${label} on the token`);
    if (found.length > 1) throw new KeyError('device-error', `several ${half} keys are labelled ${label}`);
    return found[0];
  }

  #spki(session: Handle, publicKey: Handle): Buffer {
    try {
      const [type] = this.#p11.C_GetAttributeValue(session, publicKey, [{ type: ck.CKA_KEY_TYPE }]);
      const keyType = type.value.readUInt32LE(0);
      if (keyType === ck.CKK_EC) {
        const [params, point] = this.#p11.C_GetAttributeValue(session, publicKey, [
          { type: ck.CKA_EC_PARAMS },
          { type: ck.CKA_EC_POINT },
        ]);
        return spkiFromEcPoint(params.value, point.value);
      }
      if (keyType === ck.CKK_RSA) {
        const [modulus, exponent] = this.#p11.C_GetAttributeValue(session, publicKey, [
          { type: ck.CKA_MODULUS },
          { type: ck.CKA_PUBLIC_EXPONENT },
        ]);
        return spkiFromRsa(modulus.value, exponent.value);
      }
      throw new KeyError('unsupported', `PKCS#11 key type ${keyType} is not supported`);
    } catch (error) {
      throw fromPkcs11(error, 'C_GetAttributeValue');
    }
  }
}

/** The CKA_ID of a key: derived from its label, so both halves and later certificates can share it. */
function idOf(label: string): Buffer {
  return createHash('sha256').update(label).digest().subarray(0, 20);
}
