import { KeyError } from './errors.js';
import { openPkcs11Backend } from './pkcs11.js';
import type { KeyBackend } from './signer.js';
import { openSoftBackend } from './soft.js';

export { KeyError, type KeyErrorCode } from './errors.js';
export { type Pkcs12Contents, p12Signer, readPkcs12 } from './pkcs12.js';
export type { GeneratedKey, KeyBackend, Signer } from './signer.js';
export { changePin, initToken, listTokens, type TokenInfo, unblockPin } from './token-admin.js';

/** How to open a key backend: a directory of encrypted key files, or a PKCS#11 token. */
export type KeyBackendOptions =
  | { kind: 'soft'; dir: string; passphrase: string }
  | { kind: 'pkcs11'; module: string; tokenLabel: string; pin: string; poolSize?: number };

/** Opens the key backend the options describe; close it when done. */
export async function openKeyBackend(options: KeyBackendOptions): Promise<KeyBackend> {
  switch (options.kind) {
    case 'soft':
      return openSoftBackend(options.dir, options.passphrase);
    case 'pkcs11':
      return openPkcs11Backend(options);
    default:
      throw new KeyError('unsupported', `unknown key backend ${(options as { kind: unknown }).kind}`);
  }
}
