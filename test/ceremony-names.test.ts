import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CeremonyResult, defaultCeremony, runCeremony } from '../src/ca/index.js';
import { main } from '../src/cli/main.js';
import { loadConfig } from '../src/config.js';
import { formatName, parseCertificate } from '../src/pki/index.js';
import { Store } from '../src/store/index.js';
import { tempDir } from './support/env.js';

describe('the names the key ceremony gives', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp?.remove());

  /** The subjects of every certificate a ceremony made, by CA id or service name. */
  async function subjects(dir: string, result: CeremonyResult): Promise<Record<string, string>> {
    const store = await Store.open(loadConfig({ dataDir: dir, env: {} }).database);
    try {
      const out: Record<string, string> = {};
      for (const ca of await store.cas.list())
        out[ca.id] = formatName(parseCertificate(ca.certificate).subject);
      for (const s of result.services) {
        const record = await store.certificates.get(s.serial);
        out[s.name] = formatName(parseCertificate(record!.der).subject);
      }
      return out;
    } finally {
      await store.close();
    }
  }

  test('the issuing CA, OCSP and TSA names derive from the root’s C and O, never "Kyso"', async () => {
    const dir = path.join(tmp.dir, 'derived');
    const result = await runCeremony(loadConfig({ dataDir: dir, env: {} }), {
      ...defaultCeremony(),
      rootName: 'C=VN, O=Bộ Tài chính, CN=Root CA Bộ Tài chính',
    });
    expect(await subjects(dir, result)).toEqual({
      root: 'C=VN, O=Bộ Tài chính, CN=Root CA Bộ Tài chính',
      issuing: 'C=VN, O=Bộ Tài chính, CN=Bộ Tài chính Issuing CA',
      ocsp: 'C=VN, O=Bộ Tài chính, CN=Bộ Tài chính OCSP Responder',
      tsa: 'C=VN, O=Bộ Tài chính, CN=Bộ Tài chính Time-Stamp Authority',
    });
  });

  test('kyso init takes every name as a flag, and refuses to name a real root by default', async () => {
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s), interactive: false };
    const dir = path.join(tmp.dir, 'named');
    expect(await main(['init', '--data', dir], io)).toBe(3);
    expect(out.join('')).toMatch(/--root-name is required/);
    out.length = 0;
    const code = await main(
      [
        'init',
        '--data',
        dir,
        '--json',
        '--root-name',
        'C=VN, O=Ban Cơ yếu Chính phủ, CN=Root CA G1',
        '--issuing-name',
        'C=VN, O=Ban Cơ yếu Chính phủ, CN=CA phục vụ các cơ quan Nhà nước G1',
        '--ocsp-name',
        'C=VN, O=Ban Cơ yếu Chính phủ, OU=Cục Chứng thực số, CN=OCSP G1',
        '--tsa-name',
        'C=VN, O=Ban Cơ yếu Chính phủ, OU=Cục Chứng thực số, CN=TSA G1',
      ],
      io,
    );
    expect(code).toBe(0);
    const result = JSON.parse(out.join('')) as CeremonyResult;
    expect(await subjects(dir, result)).toEqual({
      root: 'C=VN, O=Ban Cơ yếu Chính phủ, CN=Root CA G1',
      issuing: 'C=VN, O=Ban Cơ yếu Chính phủ, CN=CA phục vụ các cơ quan Nhà nước G1',
      ocsp: 'C=VN, O=Ban Cơ yếu Chính phủ, OU=Cục Chứng thực số, CN=OCSP G1',
      tsa: 'C=VN, O=Ban Cơ yếu Chính phủ, OU=Cục Chứng thực số, CN=TSA G1',
    });
  });
});
