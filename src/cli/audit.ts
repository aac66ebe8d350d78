import { verifyAuditLog } from '../auth/index.js';
import { loadConfig } from '../config.js';
import { Store } from '../store/index.js';
import { parseArgs } from './args.js';
import { UsageError } from './errors.js';
import { type Io, printJson } from './output.js';

/** `kyso audit verify`: walks the hash chain; exit 1 when anything was changed, inserted or removed. */
export async function auditCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify')
    throw new UsageError(sub ? `unknown command "kyso audit ${sub}"` : 'usage: kyso audit verify');
  const { values } = parseArgs(rest, {}, { min: 0, max: 0, usage: 'kyso audit verify' });
  const store = await Store.open(loadConfig({ dataDir: values.data }).database);
  try {
    const result = await verifyAuditLog(store);
    if (values.json) printJson(io, result);
    else if (result.ok)
      io.out(`audit log intact: ${result.entries} entries, chain head ${result.headSeq ?? 'none'}\n`);
    else {
      for (const p of result.problems) io.err(`entry ${p.seq}: ${p.message}\n`);
      io.err(`audit log damaged: ${result.problems.length} problem(s) in ${result.entries} entries\n`);
    }
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
