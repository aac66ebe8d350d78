import { parseArgs as nodeParseArgs } from 'node:util';
import { EXIT, UsageError } from './errors.js';
import { LANGS } from './messages.js';
import type { Io } from './output.js';

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** Options every command takes. */
export const COMMON_OPTIONS = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  lang: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  actor: { type: 'string' },
} as const satisfies Record<string, OptionSpec>;

/**
 * Whether a command line asks for help: `--help` or `-h` anywhere before a `--`, whatever else it holds.
 * Such a command line must print help and do nothing else, so main checks this before any command runs.
 */
export function helpRequested(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/** Thrown by parseArgs for a help request that reached a command: main prints the help, nothing runs. */
export class HelpRequested extends Error {
  readonly code = 'help';
}

/** Parses a command's arguments strictly: an unknown option is a usage error, not ignored. */
export function parseArgs<const O extends Record<string, OptionSpec>>(
  args: string[],
  options: O,
  positionals: { min: number; max: number; usage: string },
) {
  if (helpRequested(args)) throw new HelpRequested('help requested');
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = nodeParseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max) {
    throw new UsageError(`usage: ${positionals.usage}`);
  }
  const lang = parsed.values.lang;
  if (lang !== undefined && !(LANGS as readonly unknown[]).includes(lang))
    throw new UsageError(`--lang must be ${LANGS.join(' or ')}, got "${lang}"`);
  return parsed as unknown as {
    values: {
      [K in keyof O]?: O[K]['type'] extends 'boolean'
        ? boolean
        : O[K] extends { multiple: true }
          ? string[]
          : string;
    } & {
      data?: string;
      json?: boolean;
      lang?: string;
      help?: boolean;
      actor?: string;
    };
    positionals: string[];
  };
}

/** A whole number option, or undefined when absent. */
export function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

type Handler = (args: string[], io: Io) => Promise<number>;

/** Runs `kyso GROUP SUB …`: the named handler, the group's help (a usage error when no SUB was given), or a usage error. */
export function runSubcommand(
  group: string,
  help: string,
  handlers: Record<string, Handler>,
  args: string[],
  io: Io,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || helpRequested(args)) {
    io.out(`${help}\n`);
    return Promise.resolve(sub === undefined ? EXIT.usage : EXIT.ok);
  }
  const handler = Object.hasOwn(handlers, sub) ? handlers[sub] : undefined;
  if (!handler) throw new UsageError(`unknown command "kyso ${group} ${sub}"`);
  return handler(rest, io);
}

/** --timeout SECONDS for each OCSP, CRL and TSA request (default 10). */
export function timeoutOption(value: string | undefined): number {
  if (value === undefined) return 10_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300)
    throw new UsageError(`--timeout must be a number of seconds from 0 to 300, got "${value}"`);
  return Math.round(seconds * 1000);
}
