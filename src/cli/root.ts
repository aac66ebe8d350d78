import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CaError,
  type CertificateAuthority,
  importRootStatus,
  presignedExpiry,
  presignRootCrl,
  presignRootOcsp,
} from '../ca/index.js';
import { fromPem } from '../pki/index.js';
import { intOption, parseArgs, runSubcommand } from './args.js';
import { cliActor, withAuthority } from './context.js';
import { UsageError } from './errors.js';
import { emit, type Io, printJson } from './output.js';

export const ROOT_HELP = `kyso root COMMAND: the offline root's ceremonies (docs/operator/offline-root.md)
  crl --data ROOT_DIR [--days N] --out FILE [--der]   the root signs a full CRL valid N days
  ocsp --data ROOT_DIR [--days N] --out-dir DIR        the root signs OCSP answers about the CAs it issued
                                                       (one DER file per CA and CertID hash)
  import --data ONLINE_DIR FILE...                     takes the signed CRL and answers into the online
                                                       data directory, after checking them
  status --data ONLINE_DIR                             when the imported CRL and answers run out
  N defaults to offlineRoot.presignedDays in the root's kyso.json (365).`;

/** `kyso root …`: signing at the offline root, and importing what it signed. */
export function rootCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand('root', ROOT_HELP, { crl, ocsp, import: importCommand, status }, args, io);
}

/** Opens a data directory that holds an offline root's key, refusing any other. */
function withOfflineRoot<T>(
  dataDir: string | undefined,
  fn: (root: CertificateAuthority, days: (v?: string) => number) => Promise<T>,
): Promise<T> {
  return withAuthority(dataDir, async (root, config) => {
    if ((await root.store.settings.get('ca.offline-root')) !== 'true')
      throw new CaError(
        'not-offline',
        `${config.dataDir} is not an offline root's data directory (made by \`kyso init --root-data\`)`,
      );
    return fn(root, (v) => intOption(v, 'days') ?? config.offlineRoot.presignedDays);
  });
}

async function crl(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { days: { type: 'string' }, out: { type: 'string' }, der: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'kyso root crl --data ROOT_DIR [--days N] --out FILE [--der]' },
  );
  return withOfflineRoot(values.data, async (root, days) => {
    const signed = await presignRootCrl(root, { days: days(values.days), actor: cliActor(values.actor) });
    emit(io, 'X509 CRL', [signed.der], values);
    const info = {
      caId: signed.caId,
      number: signed.number,
      entries: signed.entries,
      thisUpdate: signed.thisUpdate.toISOString(),
      nextUpdate: signed.nextUpdate.toISOString(),
    };
    if (values.json) printJson(io, info);
    else
      io.err(
        `root CRL ${info.number} of ${info.caId}: ${info.entries} entries, valid until ${info.nextUpdate}\n`,
      );
    return 0;
  });
}

async function ocsp(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { days: { type: 'string' }, 'out-dir': { type: 'string' } },
    { min: 0, max: 0, usage: 'kyso root ocsp --data ROOT_DIR [--days N] --out-dir DIR' },
  );
  const outDir = values['out-dir'];
  if (!outDir) throw new UsageError('kyso root ocsp needs --out-dir DIR');
  return withOfflineRoot(values.data, async (root, days) => {
    const answers = await presignRootOcsp(root, { days: days(values.days), actor: cliActor(values.actor) });
    mkdirSync(outDir, { recursive: true });
    const files = answers.map((a) => {
      const file = path.join(outDir, `${a.serial}-${a.hash}.ocsp`);
      atomicWrite(file, a.der);
      return { serial: a.serial, hash: a.hash, file, nextUpdate: a.nextUpdate.toISOString() };
    });
    if (values.json) printJson(io, files);
    else for (const f of files) io.out(`${f.file}: ${f.serial} (${f.hash}), valid until ${f.nextUpdate}\n`);
    return 0;
  });
}

async function importCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {},
    { min: 1, max: 1000, usage: 'kyso root import --data ONLINE_DIR FILE...' },
  );
  return withAuthority(values.data, async (online) => {
    const done = [];
    for (const file of positionals) {
      const imported = await importRootStatus(online, readDer(file), { actor: cliActor(values.actor) });
      done.push({ file, ...imported, nextUpdate: imported.nextUpdate.toISOString() });
      if (!values.json)
        io.out(
          `${file}: ${imported.kind === 'crl' ? `CRL ${imported.what}` : `OCSP answer about ${imported.what}`} of ${imported.caId}, valid until ${imported.nextUpdate.toISOString()}\n`,
        );
    }
    if (values.json) printJson(io, done);
    return 0;
  });
}

async function status(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(args, {}, { min: 0, max: 0, usage: 'kyso root status --data ONLINE_DIR' });
  return withAuthority(values.data, async (online, config) => {
    const items = await presignedExpiry(online);
    const warnBefore = config.offlineRoot.warnDays * 86_400_000;
    const now = Date.now();
    const rows = items.map((i) => ({
      ...i,
      nextUpdate: i.nextUpdate?.toISOString() ?? null,
      renewSoon: !i.nextUpdate || i.nextUpdate.getTime() - now <= warnBefore,
    }));
    if (values.json) printJson(io, rows);
    else
      for (const r of rows)
        io.out(
          `${r.caId} ${r.kind} ${r.what}: ${r.nextUpdate ? `valid until ${r.nextUpdate}` : 'missing'}${r.renewSoon ? ' — RENEW at the root ceremony' : ''}\n`,
        );
    return rows.some((r) => r.renewSoon) ? 1 : 0;
  });
}

/** A CRL as PEM or DER, or a DER OCSP response. */
function readDer(file: string): Uint8Array {
  const bytes = readFileSync(file);
  if (bytes.subarray(0, 11).toString('latin1') === '-----BEGIN ') return fromPem(bytes.toString('utf8'))[0];
  return Uint8Array.from(bytes);
}

function atomicWrite(file: string, data: Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
