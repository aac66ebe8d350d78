import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { allowedReasons, type CertificateAuthority } from '../ca/index.js';
import { type GeneralName, PkiError, parseRevocationReason, type RevocationReason } from '../pki/index.js';
import type { CertificateRecord } from '../store/index.js';
import { intOption, parseArgs, runSubcommand } from './args.js';
import { CERT_VERIFY_HELP } from './cert-verify.js';
import { cliActor, withAuthority } from './context.js';
import { EXIT, OutputNotWrittenError, UsageError, WriteError } from './errors.js';
import { afterCommit, emit, type Io, printJson, progress } from './output.js';

/** The reasons an operator gives on the command line: the RA officer's (src/ca/reasons.ts). */
const OPERATOR_REASONS = allowedReasons('ra-officer');

export const CERT_HELP = `kyso cert COMMAND
  issue --csr FILE --profile NAME [--subject DN] [--days N] [--san dns:NAME|email:ADDR|uri:URL|ip:ADDR]… [--out FILE] [--der]
  renew SERIAL [--csr FILE] [--days N] [--out FILE] [--der]
  change SERIAL --subject DN [--csr FILE] [--out FILE] [--der]
  revoke SERIAL --reason REASON   REASON: ${OPERATOR_REASONS.join(', ')}
  hold SERIAL
  release SERIAL
  show SERIAL [--out FILE] [--der]
  list [--status active|hold|revoked|expired] [--profile NAME] [--q TEXT] [--org TEXT] [--limit N]
  bulk --dir DIR --profile NAME --out-dir DIR [--days N]   one certificate per DIR/*.csr (its own subject)
  verify CERT --ca ROOTS.pem [--untrusted FILE]... [--crl FILE]... [--at TIME] [--policy OID]... [--json]
      RFC 5280 path validation, no data directory needed (kyso cert verify --help); exit 0/1/2 valid/invalid/indeterminate
Profiles: individual, organization, device, tsa, ocsp, subca. SERIAL is hex as \`openssl x509 -serial\` prints it.
A device certificate names only the host of its subject's CN and the --san values: names in the CSR are
not copied. --out replaces FILE only once the new one is complete; if it cannot be written after the
certificate was stored, the error names the serial to fetch with \`kyso cert show SERIAL --out FILE\` (exit 5).
On hold (hold) and back (release) are their own commands, not revocation reasons.`;

/** `kyso cert verify` has flags of its own; every other subcommand is covered by CERT_HELP. */
export function certHelp(args: readonly string[]): string {
  return args[0] === 'verify' ? CERT_VERIFY_HELP : CERT_HELP;
}

const OUTPUT = { out: { type: 'string' }, der: { type: 'boolean' } } as const;

/** `kyso cert …`: the certificate operations. */
export async function certCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand(
    'cert',
    CERT_HELP,
    {
      issue,
      renew,
      change,
      revoke: (a, o) => status('revoke', a, o),
      hold: (a, o) => status('hold', a, o),
      release: (a, o) => status('release', a, o),
      show,
      list,
      bulk,
      verify: async (a, o) => (await import('./cert-verify.js')).certVerify(a, o),
    },
    args,
    io,
  );
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${file}`, { cause: e });
  }
}

/** The --reason an operator may give; any other is a usage error that lists the allowed ones. */
function operatorReason(text: string): RevocationReason {
  let reason: RevocationReason | undefined;
  try {
    reason = parseRevocationReason(text);
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
  }
  if (!reason || !OPERATOR_REASONS.includes(reason))
    throw new UsageError(`--reason must be one of ${OPERATOR_REASONS.join(', ')}, got "${text}"`);
  return reason;
}

function parseSan(value: string): GeneralName {
  const m = /^(dns|email|uri|ip):(.+)$/.exec(value);
  if (!m)
    throw new UsageError(`--san must look like dns:NAME, email:ADDR, uri:URL or ip:ADDR, got "${value}"`);
  return { type: m[1] as GeneralName['type'], value: m[2] };
}

function result(
  io: Io,
  record: CertificateRecord,
  opts: { json?: boolean; out?: string; der?: boolean },
): number {
  afterCommit(
    () => {
      if (opts.out || !opts.json) emit(io, 'CERTIFICATE', [record.der], opts);
    },
    stored(record),
    `kyso cert show ${record.serial} --out ${opts.out ?? 'FILE'}${opts.der ? ' --der' : ''}`,
  );
  if (opts.json) printJson(io, summary(record));
  else if (opts.out) io.err(`${record.serial} ${record.subject}\n`);
  return 0;
}

/** What a committed issuance stored, for a message about the output that failed after it. */
function stored(record: CertificateRecord): { vi: string; en: string } {
  return {
    vi: `Chứng thư số ${record.serial} đã được cấp và lưu`,
    en: `Certificate ${record.serial} was issued and stored`,
  };
}

/** What the command line shows of a certificate. */
function summary(r: CertificateRecord) {
  return {
    serial: r.serial,
    caId: r.caId,
    profile: r.profile,
    status: r.status,
    subject: r.subject,
    email: r.email,
    notBefore: r.notBefore.toISOString(),
    notAfter: r.notAfter.toISOString(),
    expired: r.notAfter.getTime() < Date.now(),
    revokedAt: r.revokedAt?.toISOString() ?? null,
    revocationReason: r.status === 'active' ? null : r.revocationReason,
    renewedFrom: r.renewedFrom,
    replacedBy: r.replacedBy,
    fingerprint: r.fingerprint,
  };
}

async function issue(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    {
      csr: { type: 'string' },
      profile: { type: 'string' },
      subject: { type: 'string' },
      days: { type: 'string' },
      san: { type: 'string', multiple: true },
      ...OUTPUT,
    },
    {
      min: 0,
      max: 0,
      usage: 'kyso cert issue --csr FILE --profile NAME [--subject DN] [--days N] [--out FILE]',
    },
  );
  if (!values.csr || !values.profile)
    throw new UsageError('kyso cert issue needs --csr FILE and --profile NAME');
  const csr = readInput(values.csr, 'CSR');
  const days = intOption(values.days, 'days');
  const altNames = (values.san as string[] | undefined)?.map(parseSan);
  return withAuthority(values.data, async (ca) => {
    const record = await ca.issue({
      csr,
      profile: values.profile!,
      subject: values.subject,
      days,
      altNames,
      actor: cliActor(values.actor),
    });
    return result(io, record, values);
  });
}

async function renew(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { csr: { type: 'string' }, days: { type: 'string' }, ...OUTPUT },
    { min: 1, max: 1, usage: 'kyso cert renew SERIAL [--csr FILE] [--days N]' },
  );
  const csr = values.csr ? readInput(values.csr, 'CSR') : undefined;
  const days = intOption(values.days, 'days');
  return withAuthority(values.data, async (ca) =>
    result(io, await ca.renew(positionals[0], { csr, days, actor: cliActor(values.actor) }), values),
  );
}

async function change(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { subject: { type: 'string' }, csr: { type: 'string' }, ...OUTPUT },
    { min: 1, max: 1, usage: 'kyso cert change SERIAL --subject DN [--csr FILE]' },
  );
  if (!values.subject) throw new UsageError('kyso cert change needs --subject DN');
  const csr = values.csr ? readInput(values.csr, 'CSR') : undefined;
  return withAuthority(values.data, async (ca) =>
    result(
      io,
      await ca.change(positionals[0], { subject: values.subject!, csr, actor: cliActor(values.actor) }),
      values,
    ),
  );
}

async function status(action: 'revoke' | 'hold' | 'release', args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { reason: { type: 'string' } },
    { min: 1, max: 1, usage: `kyso cert ${action} SERIAL${action === 'revoke' ? ' --reason REASON' : ''}` },
  );
  if (action === 'revoke' && !values.reason)
    throw new UsageError(`kyso cert revoke needs --reason REASON, one of ${OPERATOR_REASONS.join(', ')}`);
  if (action !== 'revoke' && values.reason) throw new UsageError(`kyso cert ${action} takes no --reason`);
  const reason = values.reason ? operatorReason(values.reason) : undefined;
  return withAuthority(values.data, async (ca: CertificateAuthority) => {
    const actor = cliActor(values.actor);
    const record =
      action === 'revoke'
        ? await ca.revoke(positionals[0], { reason: reason!, actor })
        : action === 'hold'
          ? await ca.hold(positionals[0], { actor })
          : await ca.release(positionals[0], { actor });
    if (values.json) printJson(io, summary(record));
    else
      io.out(
        `${record.serial}: ${record.status}${record.status === 'revoked' ? ` (${record.revocationReason})` : ''}\n`,
      );
    return 0;
  });
}

async function show(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(args, OUTPUT, {
    min: 1,
    max: 1,
    usage: 'kyso cert show SERIAL [--out FILE] [--der]',
  });
  return withAuthority(values.data, async (ca) => {
    const record = await ca.get(positionals[0]);
    if (values.json) {
      if (values.out) emit(io, 'CERTIFICATE', [record.der], values);
      printJson(io, summary(record));
      return 0;
    }
    const s = summary(record);
    io.out(
      [
        `Serial:      ${s.serial}`,
        `Subject:     ${s.subject}`,
        `Profile:     ${s.profile}`,
        `Issuer CA:   ${s.caId}`,
        `Status:      ${s.status}${s.expired ? ' (expired)' : ''}${s.revocationReason ? ` — ${s.revocationReason} at ${s.revokedAt}` : ''}`,
        `Valid:       ${s.notBefore} → ${s.notAfter}`,
        `SHA-256:     ${s.fingerprint}`,
        ...(s.renewedFrom ? [`Renews:      ${s.renewedFrom}`] : []),
        ...(s.replacedBy ? [`Replaced by: ${s.replacedBy}`] : []),
        '',
      ].join('\n'),
    );
    emit(io, 'CERTIFICATE', [record.der], values);
    return 0;
  });
}

async function list(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    {
      status: { type: 'string' },
      profile: { type: 'string' },
      q: { type: 'string' },
      org: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
    },
    {
      min: 0,
      max: 0,
      usage: 'kyso cert list [--status S] [--profile P] [--q TEXT] [--org TEXT] [--limit N]',
    },
  );
  const st = values.status;
  if (st && !['active', 'hold', 'revoked', 'expired'].includes(st))
    throw new UsageError('--status must be active, hold, revoked or expired');
  return withAuthority(values.data, async (ca) => {
    const rows = await ca.search({
      status: st as 'active' | undefined,
      profile: values.profile,
      text: values.q,
      organization: values.org,
      limit: intOption(values.limit, 'limit') ?? 100,
      offset: intOption(values.offset, 'offset') ?? 0,
    });
    if (values.json) {
      printJson(io, rows.map(summary));
      return 0;
    }
    for (const r of rows) {
      io.out(
        `${r.serial}  ${r.status.padEnd(7)}  ${r.profile.padEnd(12)}  ${r.notAfter.toISOString().slice(0, 10)}  ${r.subject}\n`,
      );
    }
    return 0;
  });
}

async function bulk(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    {
      dir: { type: 'string' },
      profile: { type: 'string' },
      'out-dir': { type: 'string' },
      days: { type: 'string' },
    },
    { min: 0, max: 0, usage: 'kyso cert bulk --dir DIR --profile NAME --out-dir DIR [--days N]' },
  );
  if (!values.dir || !values.profile || !values['out-dir'])
    throw new UsageError('kyso cert bulk needs --dir, --profile and --out-dir');
  let names: string[];
  try {
    names = readdirSync(values.dir)
      .filter((n) => n.endsWith('.csr'))
      .sort();
  } catch (e) {
    throw new UsageError(`cannot read the directory ${values.dir}`, { cause: e });
  }
  const outDir = values['out-dir'];
  mkdirSync(outDir, { recursive: true });
  const days = intOption(values.days, 'days');
  return withAuthority(values.data, async (ca) => {
    const bar = progress(io, `certificates issued of ${names.length}`);
    let done = 0;
    const failed: string[] = [];
    let lost = false;
    const issued: ReturnType<typeof summary>[] = [];
    let next = 0;
    // A few in flight at once: the CA batches their writes.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < names.length) {
          const name = names[next++];
          try {
            const record = await ca.issue({
              csr: readFileSync(path.join(values.dir!, name)),
              profile: values.profile!,
              days,
              actor: cliActor(values.actor),
            });
            const out = path.join(outDir, name.replace(/\.csr$/, '.pem'));
            afterCommit(
              () => emit(io, 'CERTIFICATE', [record.der], { out }),
              stored(record),
              `kyso cert show ${record.serial} --out ${out}`,
            );
            issued.push(summary(record));
          } catch (e) {
            lost ||= e instanceof OutputNotWrittenError;
            failed.push(`${name}: ${bulkProblem(e)}`);
          }
          bar.tick(++done);
        }
      }),
    );
    bar.done();
    if (values.json) printJson(io, { issued, failed });
    else {
      for (const f of failed) io.err(`kyso: ${f}\n`);
      io.out(`${issued.length} issued, ${failed.length} failed; certificates in ${outDir}\n`);
    }
    if (lost) return EXIT.outputNotWritten;
    return failed.length ? EXIT.failed : EXIT.ok;
  });
}

/** Why one CSR of a bulk run failed; a certificate stored without its file is named by its serial. */
function bulkProblem(e: unknown): string {
  if (e instanceof OutputNotWrittenError)
    return `${e.stored.en}, but ${e.write.message}: fetch it with \`${e.fetch}\`, do not issue it again`;
  if (e instanceof WriteError) return e.message;
  return (e as Error).message;
}
