import { fromPkcs11, KeyError, pkcs11ReturnCode } from './errors.js';
import {
  acquireModule,
  ck,
  findToken,
  type Handle,
  type Pkcs11,
  slotNumber,
  tokenSlots,
} from './pkcs11-module.js';

/** A token as `kyso init` and the RA's token lifecycle see it. */
export interface TokenInfo {
  slot: number;
  label: string;
  serial: string;
  initialized: boolean;
  userPinLocked: boolean;
}

/** Every token present in the library's slots, initialised or not. */
export async function listTokens(module: string): Promise<TokenInfo[]> {
  const lease = acquireModule(module);
  try {
    return tokenSlots(lease.pkcs11).map((t) => ({
      slot: slotNumber(t.slot),
      label: t.label,
      serial: t.serial,
      initialized: (t.flags & ck.CKF_TOKEN_INITIALIZED) !== 0,
      userPinLocked: (t.flags & ck.CKF_USER_PIN_LOCKED) !== 0,
    }));
  } finally {
    lease.release();
  }
}

/** Initialises the first uninitialised token with a label and SO PIN, then sets its user PIN. */
export async function initToken(
  module: string,
  o: { label: string; soPin: string; userPin: string },
): Promise<void> {
  const label = Buffer.from(o.label, 'utf8');
  // CK_TOKEN_INFO.label is 32 bytes, space-padded; we pad it ourselves since the library reads all 32.
  if (label.length === 0 || label.length > 32 || o.label !== o.label.trim()) {
    throw new KeyError('invalid-input', 'a token label is 1 to 32 bytes of UTF-8 without surrounding spaces');
  }
  const lease = acquireModule(module);
  try {
    const p11 = lease.pkcs11;
    const tokens = tokenSlots(p11);
    if (tokens.some((t) => t.flags & ck.CKF_TOKEN_INITIALIZED && t.label === o.label)) {
      throw new KeyError('invalid-input', `a token labelled ${JSON.stringify(o.label)} already exists`);
    }
    const free = tokens.find((t) => !(t.flags & ck.CKF_TOKEN_INITIALIZED));
    if (!free) throw new KeyError('token-not-found', 'no uninitialised token is present');
    const padded = Buffer.concat([label, Buffer.alloc(32 - label.length, ' ')]).toString('utf8');
    try {
      p11.C_InitToken(free.slot, o.soPin, padded);
    } catch (error) {
      throw fromPkcs11(error, 'C_InitToken');
    }
    // Some libraries (SoftHSM) move an initialised token to a new slot id: look it up again.
    asSecurityOfficer(p11, findToken(p11, o.label).slot, o.soPin, (session) =>
      p11.C_InitPIN(session, o.userPin),
    );
  } finally {
    lease.release();
  }
}

/** Changes the user PIN, given the current one. */
export async function changePin(
  module: string,
  o: { tokenLabel: string; oldPin: string; newPin: string },
): Promise<void> {
  const lease = acquireModule(module);
  try {
    const p11 = lease.pkcs11;
    const { slot } = findToken(p11, o.tokenLabel);
    // In a public read-write session C_SetPIN changes the user PIN and checks the old one itself.
    withSession(p11, slot, (session) => {
      try {
        p11.C_SetPIN(session, o.oldPin, o.newPin);
      } catch (error) {
        throw fromPkcs11(error, 'C_SetPIN');
      }
    });
    lease.pinChanged(slot, o.newPin);
  } finally {
    lease.release();
  }
}

/** Sets a new user PIN with the SO PIN, which also clears a user PIN lock. */
export async function unblockPin(
  module: string,
  o: { tokenLabel: string; soPin: string; newPin: string },
): Promise<void> {
  const lease = acquireModule(module);
  try {
    const p11 = lease.pkcs11;
    const { slot } = findToken(p11, o.tokenLabel);
    asSecurityOfficer(p11, slot, o.soPin, (session) => p11.C_InitPIN(session, o.newPin));
    lease.pinChanged(slot, o.newPin);
  } finally {
    lease.release();
  }
}

function withSession<T>(p11: Pkcs11, slot: Handle, operation: (session: Handle) => T): T {
  let session: Handle;
  try {
    session = p11.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION);
  } catch (error) {
    throw fromPkcs11(error, 'C_OpenSession');
  }
  try {
    return operation(session);
  } finally {
    p11.C_CloseSession(session);
  }
}

function asSecurityOfficer(
  p11: Pkcs11,
  slot: Handle,
  soPin: string,
  operation: (session: Handle) => void,
): void {
  withSession(p11, slot, (session) => {
    try {
      p11.C_Login(session, ck.CKU_SO, soPin);
    } catch (error) {
      if (pkcs11ReturnCode(error) === 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN') {
        throw new KeyError('device-error', 'the token is in use by an open key backend; close it first', {
          cause: error,
        });
      }
      throw fromPkcs11(error, 'C_Login (SO)');
    }
    try {
      operation(session);
    } catch (error) {
      throw fromPkcs11(error, 'C_InitPIN');
    } finally {
      p11.C_Logout(session);
    }
  });
}
