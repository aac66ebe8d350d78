import { readFileSync } from 'node:fs';
import { type AuditCheckpoint, parseCheckpoint, readAuditLog, verifyAuditLog } from '../auth/index.js';
import { makeAuditCheckpoint, writeCheckpoint } from '../ca/index.js';
import { loadConfig } from '../config.js';
import { Store } from '../store/index.js';
import { parseArgs, runSubcommand } from './args.js';
import { withAuthority } from './context.js';
import { UsageError } from './errors.js';
import { type Io, printJson } from './output.js';

export const AUDIT_HELP = `kyso audit COMMAND: the hash-chained audit log (docs/operator/audit.md)
  verify [--checkpoint FILE]     walks the chain (exit 1 when anything was changed, inserted or removed);
                                 with a checkpoint, also finds a chain rewritten since it was signed
  log [--since TIME|SEQ] [--actor TEXT] [--action ACTION]   the entries, oldest first (--action
                                 certificate. for every certificate.* action)
  checkpoint --out FILE          signs the chain's head with the audit key; keep FILE off this machine`;

/** `kyso audit …`: verify, read and checkpoint the audit log. */
export function auditCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand('audit', AUDIT_HELP, { verify, log, checkpoint }, args, io);
}

async function verify(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { checkpoint: { type: 'string' } },
    { min: 0, max: 0, usage: 'kyso audit verify [--checkpoint FILE]' },
  );
  let checkpoint: AuditCheckpoint | undefined;
  if (values.checkpoint) {
    try {
      checkpoint = parseCheckpoint(readFileSync(values.checkpoint, 'utf8'));
    } catch (e) {
      throw new UsageError(`--checkpoint ${values.checkpoint}: ${(e as Error).message}`);
    }
  }
  const store = await Store.open(loadConfig({ dataDir: values.data }).database);
  try {
    const result = await verifyAuditLog(store, { checkpoint });
    if (values.json) printJson(io, result);
    else if (result.ok)
      io.out(
        `audit log intact: ${result.entries} entries, chain head ${result.headSeq ?? 'none'}${result.headHash ? ` (${result.headHash})` : ''}${checkpoint ? `, matches the checkpoint of ${checkpoint.at} at entry ${checkpoint.seq}` : ''}\n`,
      );
    else {
      for (const p of result.problems) io.err(`entry ${p.seq}: ${p.message}\n`);
      io.err(`audit log damaged: ${result.problems.length} problem(s) in ${result.entries} entries\n`);
    }
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

async function log(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { since: { type: 'string' }, action: { type: 'string' } },
    { min: 0, max: 0, usage: 'kyso audit log [--since TIME|SEQ] [--actor TEXT] [--action ACTION]' },
  );
  const since = values.since;
  const sinceSeq = since !== undefined && /^\d+$/.test(since) ? Number(since) : undefined;
  const sinceTime = since !== undefined && sinceSeq === undefined ? new Date(since) : undefined;
  if (sinceTime && Number.isNaN(sinceTime.getTime()))
    throw new UsageError(
      `--since must be a time (2026-12-01, 2026-12-01T08:00:00Z) or an entry number, got "${since}"`,
    );
  const store = await Store.open(loadConfig({ dataDir: values.data }).database);
  try {
    // --actor is every command's "who runs this"; here it filters, as the help says.
    const entries = readAuditLog(store, { since: sinceTime, actor: values.actor, action: values.action });
    const out = [];
    for await (const e of entries) {
      if (sinceSeq !== undefined && e.seq < sinceSeq) continue;
      const entry = {
        seq: e.seq,
        at: e.at.toISOString(),
        actor: e.actor,
        action: e.action,
        target: e.target,
        details: JSON.parse(e.details) as unknown,
        hash: e.hash,
      };
      if (values.json) out.push(entry);
      else
        io.out(
          `${entry.seq}\t${entry.at}\t${entry.actor}\t${entry.action}${entry.target ? `\t${entry.target}` : ''}\n`,
        );
    }
    if (values.json) printJson(io, out);
    return 0;
  } finally {
    await store.close();
  }
}

async function checkpoint(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { out: { type: 'string' } },
    { min: 0, max: 0, usage: 'kyso audit checkpoint --out FILE' },
  );
  const out = values.out;
  if (!out) throw new UsageError('kyso audit checkpoint needs --out FILE (kept outside the database)');
  return withAuthority(values.data, async (ca) => {
    const c = await makeAuditCheckpoint(ca);
    writeCheckpoint(out, c);
    if (values.json) printJson(io, c);
    else io.out(`checkpoint of entry ${c.seq} (${c.hash}) written to ${out}\n`);
    return 0;
  });
}
