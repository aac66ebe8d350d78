import { readFileSync } from 'node:fs';
import { HelpRequested, helpRequested } from './args.js';
import { describeError, EXIT, UsageError } from './errors.js';
import { languageOf, useLanguage } from './messages.js';
import { type Io, processIo } from './output.js';

// Each command's module is loaded only when that command runs: `kyso pdf verify` should not pay for the
// server, the database drivers and the PKCS#11 module at start-up.

type Command = (args: string[], io: Io) => Promise<number>;

/** Every command: its handler and its help text, loaded together. */
/** A command's help, or for a group whose subcommand has its own: the help for these arguments. */
type Help = string | ((args: readonly string[]) => string);

const COMMANDS: Record<string, () => Promise<[Command, Help]>> = {
  init: async () => import('./init.js').then((m) => [m.initCommand, m.INIT_HELP]),
  cert: async () => import('./cert.js').then((m) => [m.certCommand, m.certHelp]),
  crl: async () => import('./crl.js').then((m) => [m.crlCommand, m.CRL_HELP]),
  ca: async () => import('./ca.js').then((m) => [m.caCommand, m.CA_HELP]),
  audit: async () => import('./audit.js').then((m) => [m.auditCommand, m.AUDIT_HELP]),
  root: async () => import('./root.js').then((m) => [m.rootCommand, m.ROOT_HELP]),
  serve: async () => import('./serve.js').then((m) => [m.serveCommand, m.SERVE_HELP]),
  ocsp: async () => import('./ocsp.js').then((m) => [m.ocspCommand, m.OCSP_HELP]),
  ts: async () => import('./ts.js').then((m) => [m.tsCommand, m.TS_HELP]),
  pdf: async () => import('./pdf.js').then((m) => [m.pdfCommand, m.PDF_HELP]),
};

/** The version in package.json. */
export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

/** The whole help text; it loads every command module, which only `kyso help` needs. */
async function help(): Promise<string> {
  const helps = await Promise.all(
    Object.values(COMMANDS).map(async (load) => helpText((await load())[1], [])),
  );
  return `kyso ${VERSION}: the Kyso certification authority and document-signing platform

${helps.join('\n\n')}

Every command takes --data DIR (default KYSO_DATA or ./kyso-data), --json, --lang vi|en (default from
LC_ALL/LANG: Vietnamese unless the locale is another language's) and --actor NAME: who runs it, for the
audit log (default KYSO_ACTOR; the OS user and host are always added). \`kyso help COMMAND\` or --help anywhere
prints a command's help and does nothing else; \`kyso --version\` prints the version.
Exit status (docs/operator/exit-codes.md): 0 done, 1 refused or failed, 2 no verdict, 3 usage error,
4 service or database unavailable, 5 stored but the output file not written.`;
}

const helpText = (h: Help, args: readonly string[]) => (typeof h === 'string' ? h : h(args));

async function commandHelp(name: string, args: readonly string[]): Promise<string> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) throw new UsageError(`unknown command "${name}"`);
  return helpText((await load())[1], args);
}

/** Runs one command line and returns its exit status; errors become one line on stderr. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...args] = argv;
  useLanguage(languageOf(argv, process.env));
  try {
    if (command === '--version' || command === '-V') {
      io.out(`kyso ${VERSION}\n`);
      return EXIT.ok;
    }
    if (command === undefined || command === '--help' || command === '-h') {
      io.out(`${await help()}\n`);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    if (command === 'help') {
      // `kyso help cert revoke` is `kyso cert --help`: a group's help covers its subcommands.
      io.out(`${args.length ? await commandHelp(args[0], args.slice(1)) : await help()}\n`);
      return EXIT.ok;
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) throw new UsageError(`unknown command "${command}"`);
    const [run, commandHelp_] = await load();
    const commandHelpText = helpText(commandHelp_, args);
    // Help anywhere wins over everything else on the line: nothing is opened, changed or written.
    if (helpRequested(args)) {
      io.out(`${commandHelpText}\n`);
      return EXIT.ok;
    }
    try {
      return await run(args, io);
    } catch (e) {
      if (!(e instanceof HelpRequested)) throw e;
      io.out(`${commandHelpText}\n`);
      return EXIT.ok;
    }
  } catch (e) {
    const known = command !== undefined && Object.hasOwn(COMMANDS, command);
    const { line, exitCode } = describeError(e, { command: known ? command : undefined });
    io.err(`kyso: ${line}\n`);
    if (process.env.KYSO_DEBUG) io.err(`${(e as Error)?.stack ?? e}\n`);
    return exitCode;
  }
}
