import { describeError, UsageError } from './errors.js';
import { type Io, processIo } from './output.js';

// Each command's module is loaded only when that command runs: `kyso pdf verify` should not pay for the
// server, the database drivers and the PKCS#11 module at start-up.

type Command = (args: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./init.js')).initCommand,
  cert: async () => (await import('./cert.js')).certCommand,
  crl: async () => (await import('./crl.js')).crlCommand,
  ca: async () => (await import('./ca.js')).caCommand,
  audit: async () => (await import('./audit.js')).auditCommand,
  root: async () => (await import('./root.js')).rootCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  ocsp: async () => (await import('./ocsp.js')).ocspCommand,
  ts: async () => (await import('./ts.js')).tsCommand,
  pdf: async () => (await import('./pdf.js')).pdfCommand,
};

/** The whole help text; it loads every command module, which only `kyso help` needs. */
async function help(): Promise<string> {
  const [init, cert, crl, ca, serve, ocsp, ts, pdf] = await Promise.all([
    import('./init.js'),
    import('./cert.js'),
    import('./crl.js'),
    import('./ca.js'),
    import('./serve.js'),
    import('./ocsp.js'),
    import('./ts.js'),
    import('./pdf.js'),
  ]);
  return `kyso: the Kyso certification authority and document-signing platform

${init.INIT_HELP}

${cert.CERT_HELP}

${crl.CRL_HELP}

${ca.CA_HELP}

${serve.SERVE_HELP}

${ocsp.OCSP_HELP}

${ts.TS_HELP}

${pdf.PDF_HELP}

${(await import('./root.js')).ROOT_HELP}

${(await import('./audit.js')).AUDIT_HELP}

Every command takes --data DIR (default KYSO_DATA or ./kyso-data), --json, and --actor NAME: who runs it,
for the audit log (default KYSO_ACTOR; the OS user and host are always added).`;
}

/** Runs one command line and returns its exit status; errors become one line on stderr. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.out(`${await help()}\n`);
      return command === undefined ? 2 : 0;
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) throw new UsageError(`unknown command "${command}"`);
    return await (await load())(args, io);
  } catch (e) {
    const { line, exitCode } = describeError(e);
    io.err(`kyso: ${line}\n`);
    if (process.env.KYSO_DEBUG) io.err(`${(e as Error)?.stack ?? e}\n`);
    return exitCode;
  }
}
