import { afterAll, beforeAll, expect, test } from 'vitest';
import { changePin, initToken, KeyError, listTokens, openKeyBackend, unblockPin } from './index.js';
import { describeSoftHsm, SOFTHSM_MODULE, tempSoftHsm, verifies } from './test-fixtures.js';

const module = SOFTHSM_MODULE;

async function rejection(promise: Promise<unknown>): Promise<KeyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyError);
  return error as KeyError;
}

const openWith = (tokenLabel: string, pin: string) =>
  openKeyBackend({ kind: 'pkcs11', module, tokenLabel, pin, poolSize: 1 });

describeSoftHsm('token administration on SoftHSM2', () => {
  let hsm: ReturnType<typeof tempSoftHsm>;

  beforeAll(() => {
    // An empty token directory: SoftHSM offers one free, uninitialised slot.
    hsm = tempSoftHsm();
  });

  afterAll(() => hsm?.remove());

  test('a fresh token directory lists one uninitialised token', async () => {
    const tokens = await listTokens(module);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ label: '', initialized: false, userPinLocked: false });
  });

  test('initToken initialises the free slot and sets the user PIN', async () => {
    await initToken(module, { label: 'Kyso CA 01', soPin: 'so-secret', userPin: 'user-1234' });
    const tokens = await listTokens(module);
    const token = tokens.find((t) => t.label === 'Kyso CA 01');
    expect(token).toMatchObject({ initialized: true, userPinLocked: false });
    expect(token?.serial).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof token?.slot).toBe('number');
    // SoftHSM offers a new free slot once the last one is used.
    expect(tokens.some((t) => !t.initialized)).toBe(true);

    const backend = await openWith('Kyso CA 01', 'user-1234');
    const key = await backend.generateKey('ca', 'ec-p256');
    const signer = await backend.signer(key.ref, 'ECDSA-SHA256');
    const data = Buffer.from('hello');
    expect(verifies(key.publicKey, 'ECDSA-SHA256', data, await signer.sign(data))).toBe(true);
    await backend.close();
  });

  test('initToken refuses a label already in use and a label longer than 32 bytes', async () => {
    const taken = { label: 'Kyso CA 01', soPin: 'so-secret', userPin: 'user-1234' };
    expect((await rejection(initToken(module, taken))).code).toBe('invalid-input');
    const long = { label: 'ký số '.repeat(6), soPin: 'so-secret', userPin: 'user-1234' };
    expect((await rejection(initToken(module, long))).code).toBe('invalid-input');
  });

  test('initToken takes a UTF-8 label that is padded to 32 bytes', async () => {
    await initToken(module, { label: 'Bộ Tài chính', soPin: 'so-secret', userPin: 'user-1234' });
    expect((await listTokens(module)).map((t) => t.label)).toContain('Bộ Tài chính');
  });

  test('changePin needs the old PIN and then only the new one opens the token', async () => {
    const wrong = { tokenLabel: 'Kyso CA 01', oldPin: 'not-the-pin', newPin: 'user-5678' };
    expect((await rejection(changePin(module, wrong))).code).toBe('wrong-pin');
    await changePin(module, { tokenLabel: 'Kyso CA 01', oldPin: 'user-1234', newPin: 'user-5678' });
    expect((await rejection(openWith('Kyso CA 01', 'user-1234'))).code).toBe('wrong-pin');
    const backend = await openWith('Kyso CA 01', 'user-5678');
    await backend.close();
  });

  test('changePin rejects a PIN outside the token length range and an unknown token', async () => {
    const short = { tokenLabel: 'Kyso CA 01', oldPin: 'user-5678', newPin: '1' };
    expect((await rejection(changePin(module, short))).code).toBe('invalid-input');
    const unknown = { tokenLabel: 'nope', oldPin: 'user-5678', newPin: 'user-0000' };
    expect((await rejection(changePin(module, unknown))).code).toBe('token-not-found');
  });

  test('changePin while a backend is open keeps that backend working and checks the new PIN', async () => {
    const backend = await openWith('Kyso CA 01', 'user-5678');
    await changePin(module, { tokenLabel: 'Kyso CA 01', oldPin: 'user-5678', newPin: 'user-2468' });
    const signer = await backend.signer('pkcs11:ca', 'ECDSA-SHA256');
    const data = Buffer.from('still logged in');
    expect(verifies(signer.publicKey, 'ECDSA-SHA256', data, await signer.sign(data))).toBe(true);
    expect((await rejection(openWith('Kyso CA 01', 'user-5678'))).code).toBe('wrong-pin');
    const second = await openWith('Kyso CA 01', 'user-2468');
    await second.close();
    await backend.close();
  });

  test('unblockPin needs the SO PIN and sets a new user PIN', async () => {
    const wrong = { tokenLabel: 'Kyso CA 01', soPin: 'not-the-so-pin', newPin: 'user-9999' };
    expect((await rejection(unblockPin(module, wrong))).code).toBe('wrong-pin');
    await unblockPin(module, { tokenLabel: 'Kyso CA 01', soPin: 'so-secret', newPin: 'user-9999' });
    expect((await rejection(openWith('Kyso CA 01', 'user-2468'))).code).toBe('wrong-pin');
    const backend = await openWith('Kyso CA 01', 'user-9999');
    await backend.close();
  });

  test('unblockPin refuses while a key backend holds the user login', async () => {
    const backend = await openWith('Kyso CA 01', 'user-9999');
    const during = { tokenLabel: 'Kyso CA 01', soPin: 'so-secret', newPin: 'user-1111' };
    expect((await rejection(unblockPin(module, during))).message).toMatch(/in use/);
    await backend.close();
    await unblockPin(module, during);
    await (await openWith('Kyso CA 01', 'user-1111')).close();
  });

  test('a module that cannot be loaded is a device error', async () => {
    expect((await rejection(listTokens('/nonexistent/libpkcs11.so'))).code).toBe('device-error');
  });
});
