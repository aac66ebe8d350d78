import { parseArgs as nodeParseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { Io } from './output.js';

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** Options every command takes. */
export const COMMON_OPTIONS = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  actor: { type: 'string' },
} as const satisfies Record<string, OptionSpec>;

/** Parses a command's arguments strictly: an unknown option is a usage error, not ignored. */
export function parseArgs<const O extends Record<string, OptionSpec>>(
  args: string[],
  options: O,
  positionals: { min: number; max: number; usage: string },
) {
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
  if (
    !parsed.values.help &&
    (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max)
  ) {
    throw new UsageError(`usage: ${positionals.usage}`);
  }
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

/** Runs `kyso GROUP SUB …`: the named handler, the group's help (exit 2 when no SUB was given), or a usage error. */
export function runSubcommand(
  group: string,
  help: string,
  handlers: Record<string, Handler>,
  args: string[],
  io: Io,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    io.out(`${help}\n`);
    return Promise.resolve(sub === undefined ? 2 : 0);
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
