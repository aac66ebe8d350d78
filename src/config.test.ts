import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dirs: string[] = [];
function dataDir(settings?: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kyso-config-'));
  dirs.push(dir);
  if (settings !== undefined)
    writeFileSync(
      path.join(dir, 'kyso.json'),
      typeof settings === 'string' ? settings : JSON.stringify(settings),
    );
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test('defaults: SQLite in the data directory, soft keys with the passphrase file, loopback server', () => {
  const dir = dataDir();
  const c = loadConfig({ dataDir: dir, env: {} });
  expect(c.database).toEqual({ kind: 'sqlite', file: path.join(dir, 'kyso.db') });
  expect(c.keys.backend).toBe('soft');
  expect(c.keys.backend === 'soft' && c.keys.passphrase.file).toBe(
    path.join(dir, 'secrets', 'key-passphrase'),
  );
  expect(c.publicUrl).toBe('http://127.0.0.1:8080');
  expect(c.crl).toEqual({
    validityHours: 168,
    deltaValidityHours: 24,
    fullIntervalHours: 24,
    deltaIntervalMinutes: 60,
    fullAfterRevocationSeconds: 30,
    checkSeconds: 60,
  });
  expect(c.offlineRoot).toEqual({ presignedDays: 365, warnDays: 30 });
  expect(c.audit).toEqual({
    checkpointDir: path.join(dir, 'audit-checkpoints'),
    checkpointIntervalMinutes: 60,
  });
  expect(c.http.admin).toBeUndefined();
  expect(c.tsa).toMatchObject({ acceptedPolicies: [], accuracySeconds: 1 });
});

test('the environment wins over kyso.json, and secrets are read only when asked', () => {
  const dir = dataDir({
    publicUrl: 'https://from-file.example',
    keys: { backend: 'pkcs11', module: '/x.so', tokenLabel: 'file-token' },
  });
  const c = loadConfig({
    dataDir: dir,
    env: {
      KYSO_PUBLIC_URL: 'https://ca.example.gov.vn/',
      KYSO_PKCS11_TOKEN: 'env-token',
      KYSO_DATABASE_URL: 'postgres://u@h/db',
    },
  });
  expect(c.publicUrl).toBe('https://ca.example.gov.vn');
  expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u@h/db' });
  expect(c.keys).toMatchObject({ backend: 'pkcs11', module: '/x.so', tokenLabel: 'env-token' });
  expect(() => c.keys.backend === 'pkcs11' && c.keys.pin.read()).toThrow(/KYSO_PKCS11_PIN/);
  const withPin = loadConfig({ dataDir: dir, env: { KYSO_PKCS11_PIN: '1234' } });
  expect(withPin.keys.backend === 'pkcs11' && withPin.keys.pin.read()).toBe('1234');
});

test('bad settings are refused with one clear message', () => {
  const cases: [NodeJS.ProcessEnv, unknown, RegExp][] = [
    [{ KYSO_DATABASE_URL: 'mysql://x' }, undefined, /postgres:\/\/ or sqlite:/],
    [{ KYSO_PORT: 'eighty' }, undefined, /KYSO_PORT/],
    [{ KYSO_ADMIN_PORT: '99999' }, undefined, /KYSO_ADMIN_PORT/],
    [{}, { crl: { checkSeconds: 0 } }, /crl\.checkSeconds/],
    [{ KYSO_PUBLIC_URL: 'ftp://x' }, undefined, /http\(s\) URL/],
    [{ KYSO_KEY_BACKEND: 'tpm' }, undefined, /soft or pkcs11/],
    [{ KYSO_KEY_BACKEND: 'pkcs11' }, undefined, /token label/],
    [{}, '{ not json', /not valid JSON/],
    [{}, { crl: { validityHours: -1 } }, /crl\.validityHours/],
    [{}, { profiles: { individual: { keySpecs: ['dsa-1024'] } } }, /profiles\.individual\.keySpecs/],
    [{}, { surprise: true }, /surprise|Unrecognized/],
  ];
  for (const [env, file, message] of cases) {
    const dir = dataDir(file);
    expect(() => loadConfig({ dataDir: dir, env }), String(message)).toThrow(ConfigError);
    expect(() => loadConfig({ dataDir: dir, env })).toThrow(message);
  }
});

test('/metrics moves to an admin address when KYSO_ADMIN_HOST or KYSO_ADMIN_PORT is set', () => {
  const dir = dataDir();
  expect(loadConfig({ dataDir: dir, env: { KYSO_ADMIN_PORT: '9100' } }).http.admin).toEqual({
    host: '127.0.0.1',
    port: 9100,
  });
  expect(loadConfig({ dataDir: dir, env: { KYSO_ADMIN_HOST: '10.0.0.5' } }).http.admin).toEqual({
    host: '10.0.0.5',
    port: 9090,
  });
});
