import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import { fromPkcs11, KeyError, pkcs11ReturnCode } from './errors.js';

export type Handle = pkcs11js.Handle;
export type Pkcs11 = pkcs11js.PKCS11;
export const ck = pkcs11js;

interface LoadedModule {
  readonly pkcs11: Pkcs11;
  users: number;
  // Whether we ran C_Initialize; a module someone else initialised is not ours to finalise.
  readonly owned: boolean;
  // PKCS#11 login state is per application and token, so backends on one token share it.
  readonly logins: Map<string, { users: number; pinTag: Buffer }>;
}

/** A counted reference to a loaded, initialised PKCS#11 library. */
export interface ModuleLease {
  readonly pkcs11: Pkcs11;
  /** Marks the token as logged in for one more user, checking the PIN against the existing login. */
  holdLogin(slot: Handle, pin: string): 'first' | 'shared';
  /** Drops one login user; true when the caller was the last and must C_Logout. */
  dropLogin(slot: Handle): boolean;
  /** Keeps a shared login's PIN check in step after the PIN changed. */
  pinChanged(slot: Handle, pin: string): void;
  /** Returns the lease; the library is finalised when the last lease is released. */
  release(): void;
}

const modules = new Map<string, LoadedModule>();
// Keyed per process so PINs are compared without being kept.
const pinKey = randomBytes(32);

function tagOf(pin: string): Buffer {
  return createHmac('sha256', pinKey).update(pin).digest();
}

/** Loads (once per path and process) and leases the PKCS#11 library at `path`. */
export function acquireModule(module: string): ModuleLease {
  // One instance per library file, however it is named: dlopen shares it anyway.
  const path = canonical(module);
  let loaded = modules.get(path);
  if (!loaded) {
    const pkcs11 = new pkcs11js.PKCS11();
    let owned = true;
    try {
      pkcs11.load(path);
    } catch (error) {
      throw new KeyError('device-error', `cannot load PKCS#11 module ${path}`, { cause: error });
    }
    try {
      pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (pkcs11ReturnCode(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        pkcs11.close();
        throw fromPkcs11(error, `C_Initialize ${path}`);
      }
      owned = false;
    }
    loaded = { pkcs11, users: 0, owned, logins: new Map() };
    modules.set(path, loaded);
  }
  loaded.users++;
  return lease(path, loaded);
}

function lease(path: string, loaded: LoadedModule): ModuleLease {
  let released = false;
  return {
    pkcs11: loaded.pkcs11,
    holdLogin(slot, pin) {
      const key = slot.toString('hex');
      const login = loaded.logins.get(key);
      if (!login) {
        loaded.logins.set(key, { users: 1, pinTag: tagOf(pin) });
        return 'first';
      }
      if (!timingSafeEqual(login.pinTag, tagOf(pin)))
        throw new KeyError('wrong-pin', 'C_Login: CKR_PIN_INCORRECT');
      login.users++;
      return 'shared';
    },
    dropLogin(slot) {
      const key = slot.toString('hex');
      const login = loaded.logins.get(key);
      if (!login) return false;
      login.users--;
      if (login.users > 0) return false;
      loaded.logins.delete(key);
      return true;
    },
    pinChanged(slot, pin) {
      const login = loaded.logins.get(slot.toString('hex'));
      if (login) login.pinTag = tagOf(pin);
    },
    release() {
      if (released) return;
      released = true;
      loaded.users--;
      if (loaded.users > 0) return;
      modules.delete(path);
      try {
        if (loaded.owned) loaded.pkcs11.C_Finalize();
      } finally {
        loaded.pkcs11.close();
      }
    },
  };
}

/** A token as the library reports it, with the padding taken off its label and serial. */
export interface TokenSlot {
  slot: Handle;
  label: string;
  serial: string;
  flags: number;
}

/** Every slot with a token present. */
export function tokenSlots(pkcs11: Pkcs11): TokenSlot[] {
  try {
    return pkcs11.C_GetSlotList(true).map((slot) => {
      const info = pkcs11.C_GetTokenInfo(slot);
      return { slot, label: unpad(info.label), serial: unpad(info.serialNumber), flags: info.flags };
    });
  } catch (error) {
    throw fromPkcs11(error, 'C_GetSlotList');
  }
}

/** The slot of the initialised token labelled `label`; labels must be unique to choose by them. */
export function findToken(pkcs11: Pkcs11, label: string): TokenSlot {
  const found = tokenSlots(pkcs11).filter(
    (t) => t.label === label && t.flags & pkcs11js.CKF_TOKEN_INITIALIZED,
  );
  if (found.length === 0)
    throw new KeyError('token-not-found', `no initialised token labelled ${JSON.stringify(label)}`);
  if (found.length > 1)
    throw new KeyError('invalid-input', `several tokens are labelled ${JSON.stringify(label)}`);
  return found[0];
}

/** The slot number as the library's CK_SLOT_ID. */
export function slotNumber(slot: Handle): number {
  return slot.length >= 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUInt32LE(0);
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function unpad(text: string): string {
  return text.replace(/[\s\0]+$/, '');
}
