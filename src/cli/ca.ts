import { fingerprint, formatName, parseCertificate } from '../pki/index.js';
import { parseArgs, runSubcommand } from './args.js';
import { withAuthority } from './context.js';
import { emit, type Io, printJson } from './output.js';

export const CA_HELP = `kyso ca COMMAND
  chain [--ca ID] [--out FILE]   the issuing CA and root certificates (PEM)
  list                           the CAs of this installation`;

/** `kyso ca …`: the CA certificates. */
export async function caCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand('ca', CA_HELP, { chain, list }, args, io);
}

async function chain(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { ca: { type: 'string' }, out: { type: 'string' }, der: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'kyso ca chain [--ca ID] [--out FILE]' },
  );
  return withAuthority(values.data, async (ca) => {
    const chain = await ca.chain(values.ca);
    if (values.out || !values.json)
      emit(
        io,
        'CERTIFICATE',
        chain.map((c) => c.certificate),
        values,
      );
    if (values.json)
      printJson(
        io,
        chain.map((c) => describe(c.id, c.role, c.certificate)),
      );
    return 0;
  });
}

async function list(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(args, {}, { min: 0, max: 0, usage: 'kyso ca list' });
  return withAuthority(values.data, async (ca) => {
    const cas = await ca.store.cas.list();
    const out = cas.map((c) => describe(c.id, c.role, c.certificate));
    if (values.json) printJson(io, out);
    else
      for (const c of out)
        io.out(`${c.id.padEnd(10)} ${c.role.padEnd(8)} ${c.notAfter.slice(0, 10)}  ${c.subject}\n`);
    return 0;
  });
}

function describe(id: string, role: string, der: Uint8Array) {
  const c = parseCertificate(der);
  return {
    id,
    role,
    subject: formatName(c.subject),
    serial: c.serialHex,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    fingerprint: fingerprint(der),
  };
}
