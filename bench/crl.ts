import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { CertificateAuthority, defaultCeremony, runCeremony } from '../src/ca/index.js';
import { loadConfig } from '../src/config.js';
import { freshPostgres, ROOT, run, tempDir } from '../test/support/env.js';

export interface CrlResult {
  database: 'sqlite' | 'postgres';
  entries: number;
  seconds: number;
  peakMiB: number;
  bytes: number;
  opensslSeconds: number;
}

/** Makes `count` revoked certificates straight in SQL: seeding is not what is measured. */
async function seed(ca: CertificateAuthority, count: number): Promise<void> {
  const k = ca.store.kysely;
  const now = Date.now();
  const later = now + 365 * 86_400_000;
  if (ca.store.kind === 'sqlite') {
    await sql`
      with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count})
      insert into certificates (serial, ca_id, profile, status, subject, common_name, organization, email, not_before, not_after,
        der, fingerprint, key_sha256, revoked_at, revocation_reason, status_changed_at, renewed_from, replaced_by, created_at)
      select '10' || hex(randomblob(15)), 'issuing', 'individual', 'revoked', 'C=VN, CN=Bench ' || i, 'Bench ' || i, null, null,
        ${now}, ${later}, x'00', 'bench-' || i, 'x', ${now} - i * 1000, case i % 3 when 0 then 'keyCompromise' when 1 then 'affiliationChanged' else 'superseded' end,
        ${now}, null, null, ${now}
      from n`.execute(k);
  } else {
    await sql`
      insert into certificates (serial, ca_id, profile, status, subject, common_name, organization, email, not_before, not_after,
        der, fingerprint, key_sha256, revoked_at, revocation_reason, status_changed_at, renewed_from, replaced_by, created_at)
      select '10' || upper(substr(md5(random()::text || i::text), 1, 30)), 'issuing', 'individual', 'revoked', 'C=VN, CN=Bench ' || i,
        'Bench ' || i, null, null, ${now}::bigint, ${later}::bigint, '\\x00'::bytea, 'bench-' || i, 'x', ${now}::bigint - i * 1000,
        case i % 3 when 0 then 'keyCompromise' when 1 then 'affiliationChanged' else 'superseded' end, ${now}::bigint, null, null, ${now}::bigint
      from generate_series(1, ${count}::int) as i`.execute(k);
  }
}

/** `openssl ca -gencrl` over an index of the same size, with the same key type: the peer. */
function opensslGencrl(dir: string, count: number): number {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(path.join(dir, 'ca.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    path.join(dir, 'ca.key'),
    '-subj',
    '/C=VN/CN=Peer CA',
    '-days',
    '30',
    '-out',
    path.join(dir, 'ca.pem'),
  ]);
  const lines: string[] = [];
  const reasons = ['keyCompromise', 'affiliationChanged', 'superseded'];
  for (let i = 0; i < count; i++) {
    lines.push(
      `R\t301231000000Z\t261101000000Z,${reasons[i % 3]}\t10${randomBytes(15).toString('hex').toUpperCase()}\tunknown\t/CN=Bench ${i}\n`,
    );
  }
  writeFileSync(path.join(dir, 'index.txt'), lines.join(''));
  writeFileSync(path.join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    path.join(dir, 'openssl.cnf'),
    `[ca]\ndefault_ca = peer\n[peer]\ndatabase = ${dir}/index.txt\ncrlnumber = ${dir}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\n`,
  );
  const start = performance.now();
  const r = spawnSync(
    'openssl',
    [
      'ca',
      '-config',
      path.join(dir, 'openssl.cnf'),
      '-gencrl',
      '-keyfile',
      path.join(dir, 'ca.key'),
      '-cert',
      path.join(dir, 'ca.pem'),
      '-out',
      path.join(dir, 'peer.crl'),
    ],
    { stdio: 'pipe' },
  );
  if (r.status !== 0) throw new Error(`openssl ca -gencrl failed: ${r.stderr}`);
  return (performance.now() - start) / 1000;
}

/** Builds a CRL over `count` revoked certificates in a child process, reporting time and peak memory. */
export async function crlBench(database: 'sqlite' | 'postgres', count: number): Promise<CrlResult> {
  const tmp = tempDir('kyso-bench-crl-');
  const env: NodeJS.ProcessEnv = { KYSO_PUBLIC_URL: 'http://kyso.bench' };
  let drop = async () => {};
  if (database === 'postgres') {
    const pg = await freshPostgres(
      process.env.KYSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    );
    env.KYSO_DATABASE_URL = pg.url;
    drop = pg.drop;
  }
  try {
    const dataDir = path.join(tmp.dir, 'data');
    const config = loadConfig({ dataDir, env });
    await runCeremony(config, defaultCeremony());
    const ca = await CertificateAuthority.open(config);
    await seed(ca, count);
    await ca.close();
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench/crl-child.ts'), dataDir],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    if (child.status !== 0) throw new Error(`CRL child failed: ${child.stderr}`);
    const out = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    const opensslSeconds = opensslGencrl(tmp.dir, count);
    return {
      database,
      entries: out.entries,
      seconds: out.seconds,
      peakMiB: out.peakMiB,
      bytes: out.bytes,
      opensslSeconds,
    };
  } finally {
    await drop();
    tmp.remove();
  }
}
