import { fromPkcs11, KeyError } from './errors.js';
import { ck, type Handle, type Pkcs11 } from './pkcs11-module.js';

/** A fixed set of read-write sessions on one token, lent out one operation at a time. */
export class SessionPool {
  readonly #pkcs11: Pkcs11;
  readonly #sessions: Handle[] = [];
  readonly #idle: Handle[] = [];
  readonly #waiting: ((session: Handle) => void)[] = [];
  #busy = 0;
  #drained: (() => void) | undefined;
  #closed = false;

  /** Opens `size` sessions on `slot`; closes what it opened if any fails. */
  constructor(pkcs11: Pkcs11, slot: Handle, size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 256) {
      throw new KeyError('invalid-input', `session pool size must be an integer from 1 to 256, not ${size}`);
    }
    this.#pkcs11 = pkcs11;
    try {
      for (let i = 0; i < size; i++) {
        // Read-write: key generation creates token objects.
        this.#sessions.push(pkcs11.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION));
      }
    } catch (error) {
      this.#closeAll();
      throw fromPkcs11(error, 'C_OpenSession');
    }
    this.#idle.push(...this.#sessions);
  }

  /** Any session of the pool, for calls whose state is per token (login, logout). */
  get first(): Handle {
    return this.#sessions[0];
  }

  /** Runs `operation` on a session of its own, waiting for one to be free. */
  async use<T>(operation: (session: Handle) => Promise<T> | T): Promise<T> {
    const session = await this.#acquire();
    try {
      return await operation(session);
    } finally {
      this.#release(session);
    }
  }

  /** Refuses new operations, waits for running ones, runs `last` on a session (e.g. to log out), closes all. */
  async close(last?: (session: Handle) => void): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#busy > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    try {
      if (this.#sessions.length > 0) last?.(this.#sessions[0]);
    } finally {
      this.#closeAll();
    }
  }

  #acquire(): Promise<Handle> {
    if (this.#closed)
      return Promise.reject(new KeyError('device-error', 'the PKCS#11 key backend is closed'));
    this.#busy++;
    const session = this.#idle.pop();
    if (session) return Promise.resolve(session);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  // Waiting callers are served even after close() began: they were accepted before it.
  #release(session: Handle): void {
    this.#busy--;
    const next = this.#waiting.shift();
    if (next) next(session);
    else this.#idle.push(session);
    if (this.#busy === 0) this.#drained?.();
  }

  #closeAll(): void {
    for (const session of this.#sessions.splice(0)) {
      try {
        this.#pkcs11.C_CloseSession(session);
      } catch {
        // The session is gone either way; closing the rest matters more.
      }
    }
    this.#idle.length = 0;
  }
}
