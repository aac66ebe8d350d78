import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  randomBytes,
  scrypt,
  sign,
} from 'node:crypto';
import { link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import {
  algorithmFitsKey,
  hashOf,
  KEY_SPECS,
  type KeySpec,
  type SignatureAlgorithm,
} from '../pki/algorithms.js';
import { KeyError } from './errors.js';
import {
  checkLabel,
  type GeneratedKey,
  type KeyBackend,
  labelOf,
  type Signer,
  signOptions,
} from './signer.js';
import { curveOf, specOf } from './spki.js';

const SUFFIX = '.key.json';
const KDF = { name: 'scrypt', N: 2 ** 15, r: 8, p: 1 } as const;
// A key file is a few KiB; anything larger is not ours.
const MAX_FILE_BYTES = 64 * 1024;

const base64 = z
  .string()
  .max(MAX_FILE_BYTES)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/);
// Bounds on the KDF keep a crafted file from asking for gigabytes of memory or minutes of CPU.
const keyFileSchema = z.object({
  version: z.literal(1),
  spec: z.enum(KEY_SPECS as [KeySpec, ...KeySpec[]]),
  publicKey: base64,
  kdf: z.object({
    name: z.literal('scrypt'),
    N: z
      .number()
      .int()
      .min(2 ** 14)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: base64,
  }),
  cipher: z.literal('aes-256-gcm'),
  iv: base64,
  tag: base64,
  ciphertext: base64,
});
type KeyFile = z.infer<typeof keyFileSchema>;

const generate = promisify(generateKeyPair);

/** Opens a directory of passphrase-encrypted key files, creating it (mode 0700) if needed. */
export async function openSoftBackend(dir: string, passphrase: string): Promise<KeyBackend> {
  if (!passphrase) throw new KeyError('invalid-input', 'the soft key backend needs a passphrase');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const backend = new SoftKeyBackend(dir, passphrase.normalize('NFC'));
  await backend.checkPassphrase();
  return backend;
}

class SoftKeyBackend implements KeyBackend {
  readonly kind = 'soft';
  readonly #dir: string;
  readonly #passphrase: string;
  // One decryption per key, shared by concurrent signer() calls.
  readonly #keys = new Map<string, Promise<KeyObject>>();
  #closed = false;

  constructor(dir: string, passphrase: string) {
    this.#dir = dir;
    this.#passphrase = passphrase;
  }

  // A mistyped passphrase must fail at once, not later create keys no one can open. A few keys are tried
  // so that one damaged file does not lock the operator out of the rest.
  async checkPassphrase(): Promise<void> {
    const names = (await readdir(this.#dir)).filter((n) => n.endsWith(SUFFIX)).sort();
    let failure: unknown;
    for (const name of names.slice(0, 3)) {
      const label = name.slice(0, -SUFFIX.length);
      try {
        await this.#decrypt(label, await this.#read(label));
        return;
      } catch (error) {
        failure = error;
      }
    }
    if (failure) throw failure;
  }

  async generateKey(label: string, spec: KeySpec): Promise<GeneratedKey> {
    this.#checkOpen();
    checkLabel(label);
    if (!KEY_SPECS.includes(spec)) throw new KeyError('unsupported', `unknown key spec ${spec}`);
    if (await this.#exists(label)) throw new KeyError('key-exists', `soft key ${label} already exists`);
    const { privateKey, publicKey } = spec.startsWith('ec-')
      ? await generate('ec', { namedCurve: curveOf(spec).name })
      : await generate('rsa', { modulusLength: Number(spec.slice(4)), publicExponent: 65537 });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    try {
      const file = await this.#encrypt(label, spec, spki, pkcs8);
      await this.#write(label, JSON.stringify(file, null, 2));
    } finally {
      pkcs8.fill(0);
    }
    return { ref: `soft:${label}`, publicKey: spki, spec };
  }

  async signer(ref: string, algorithm: SignatureAlgorithm): Promise<Signer> {
    this.#checkOpen();
    const label = labelOf(ref, 'soft');
    const file = await this.#read(label);
    if (!algorithmFitsKey(algorithm, file.spec)) {
      throw new KeyError('algorithm-mismatch', `${algorithm} does not fit ${ref} (${file.spec})`);
    }
    let key = this.#keys.get(label);
    if (!key) {
      key = this.#decrypt(label, file);
      this.#keys.set(label, key);
      key.catch(() => this.#keys.delete(label));
    }
    return softSigner(algorithm, Buffer.from(file.publicKey, 'base64'), await key, () => this.#closed);
  }

  async publicKey(ref: string): Promise<Uint8Array> {
    this.#checkOpen();
    const file = await this.#read(labelOf(ref, 'soft'));
    return Buffer.from(file.publicKey, 'base64');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#keys.clear();
  }

  #checkOpen(): void {
    if (this.#closed) throw new KeyError('device-error', 'the soft key backend is closed');
  }

  #path(label: string): string {
    return join(this.#dir, label + SUFFIX);
  }

  async #exists(label: string): Promise<boolean> {
    try {
      await stat(this.#path(label));
      return true;
    } catch (error) {
      if (errno(error) === 'ENOENT') return false;
      throw error;
    }
  }

  async #read(label: string): Promise<KeyFile> {
    let text: string;
    try {
      const handle = await open(this.#path(label), 'r');
      try {
        if ((await handle.stat()).size > MAX_FILE_BYTES) throw malformed(label, 'too large');
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (errno(error) === 'ENOENT') throw new KeyError('key-not-found', `no soft key ${label}`);
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw malformed(label, 'not JSON');
    }
    const result = keyFileSchema.safeParse(parsed);
    if (!result.success) throw malformed(label, result.error.issues[0]?.message ?? 'bad fields');
    return result.data;
  }

  async #encrypt(label: string, spec: KeySpec, spki: Buffer, pkcs8: Buffer): Promise<KeyFile> {
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const publicKey = spki.toString('base64');
    const key = await derive(this.#passphrase, { ...KDF, salt: salt.toString('base64') });
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(header(label, spec, publicKey));
    const ciphertext = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
    key.fill(0);
    return {
      version: 1,
      spec,
      publicKey,
      kdf: { ...KDF, salt: salt.toString('base64') },
      cipher: 'aes-256-gcm',
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  async #decrypt(label: string, file: KeyFile): Promise<KeyObject> {
    const key = await derive(this.#passphrase, file.kdf);
    let pkcs8: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.iv, 'base64'));
      decipher.setAAD(header(label, file.spec, file.publicKey));
      decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
      pkcs8 = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]);
    } catch {
      // GCM cannot tell a wrong passphrase from an altered file; say both.
      throw new KeyError(
        'wrong-passphrase',
        `cannot decrypt soft key ${label}: wrong passphrase or altered key file`,
      );
    } finally {
      key.fill(0);
    }
    try {
      const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      const expected = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
      if (!expected.equals(Buffer.from(file.publicKey, 'base64')) || specOf(privateKey) !== file.spec) {
        throw malformed(label, 'private key does not match its public key');
      }
      return privateKey;
    } finally {
      pkcs8.fill(0);
    }
  }

  // Temp file, fsync, then link(): link fails if the name is taken, so a key is never overwritten.
  async #write(label: string, text: string): Promise<void> {
    const temp = join(this.#dir, `.${label}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, this.#path(label));
    } catch (error) {
      if (errno(error) === 'EEXIST') throw new KeyError('key-exists', `soft key ${label} already exists`);
      throw error;
    } finally {
      await unlink(temp);
    }
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

function softSigner(
  algorithm: SignatureAlgorithm,
  publicKey: Buffer,
  key: KeyObject,
  isClosed: () => boolean,
): Signer {
  const hash = hashOf(algorithm);
  // Built once: signing is on the CA's hot path.
  const options = signOptions(key, algorithm);
  return Object.freeze({
    algorithm,
    publicKey,
    // Not async: the promise below is the answer, without a second one wrapping it.
    sign(data: Uint8Array): Promise<Uint8Array> {
      if (isClosed()) return Promise.reject(new KeyError('device-error', 'the soft key backend is closed'));
      // The callback form signs on libuv's thread pool, leaving the main thread to the CA's other work.
      return new Promise((resolve, reject) =>
        sign(hash, data, options, (err, sig) => (err ? reject(err) : resolve(sig))),
      );
    },
  });
}

function header(label: string, spec: KeySpec, publicKey: string): Buffer {
  return Buffer.from(JSON.stringify(['kyso-soft-key', 1, label, spec, publicKey]));
}

function derive(passphrase: string, kdf: KeyFile['kdf']): Promise<Buffer> {
  const options = { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r };
  return new Promise((resolve, reject) => {
    scrypt(passphrase, Buffer.from(kdf.salt, 'base64'), 32, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

function malformed(label: string, why: string): KeyError {
  return new KeyError('device-error', `soft key file ${label}${SUFFIX} is malformed: ${why}`);
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
