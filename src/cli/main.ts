import { auditCommand } from './audit.js';
import { CA_HELP, caCommand } from './ca.js';
import { CERT_HELP, certCommand } from './cert.js';
import { CRL_HELP, crlCommand } from './crl.js';
import { describeError, UsageError } from './errors.js';
import { INIT_HELP, initCommand } from './init.js';
import { OCSP_HELP, ocspCommand } from './ocsp.js';
import { type Io, processIo } from './output.js';
import { PDF_HELP, pdfCommand } from './pdf.js';
import { SERVE_HELP, serveCommand } from './serve.js';
import { TS_HELP, tsCommand } from './ts.js';

const HELP = `kyso: the Kyso certification authority and document-signing platform

${INIT_HELP}

${CERT_HELP}

${CRL_HELP}

${CA_HELP}

${SERVE_HELP}

${OCSP_HELP}

${TS_HELP}

${PDF_HELP}

kyso audit verify: checks the hash-chained audit log

Every command takes --data DIR (default KYSO_DATA or ./kyso-data) and --json.`;

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  init: initCommand,
  cert: certCommand,
  crl: crlCommand,
  ca: caCommand,
  audit: auditCommand,
  serve: serveCommand,
  ocsp: ocspCommand,
  ts: tsCommand,
  pdf: pdfCommand,
};

/** Runs one command line and returns its exit status; errors become one line on stderr. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.out(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(args, io);
  } catch (e) {
    const { line, exitCode } = describeError(e);
    io.err(`kyso: ${line}\n`);
    if (process.env.KYSO_DEBUG) io.err(`${(e as Error)?.stack ?? e}\n`);
    return exitCode;
  }
}
