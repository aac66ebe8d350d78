import { headline, type Lang, language, PHRASES } from './messages.js';

/**
 * The exit statuses of every `kyso` command (docs/operator/exit-codes.md). A command whose answer is
 * a verdict (`ocsp check`, `pdf verify`, `ts verify`, `audit verify`) uses the same numbers for it.
 */
export const EXIT = {
  /** Done; the certificate is good; the signature or time-stamp is valid; the audit log is intact. */
  ok: 0,
  /** Refused or failed; the certificate is revoked or on hold; the signature is invalid. */
  failed: 1,
  /** No verdict could be reached: the OCSP status is unknown, the signature or path indeterminate. */
  indeterminate: 2,
  /** The command line is wrong: unknown command or option, missing argument, unreadable input. */
  usage: 3,
  /** A service, device or the database could not be used (network, timeout, lock): try again later. */
  unavailable: 4,
  /** The change was stored, but its output file could not be written: fetch it, do not repeat it. */
  outputNotWritten: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in how the command was called; `cause` is the system error behind an unreadable input. */
export class UsageError extends Error {
  readonly code = 'usage';
}

/** An output file that could not be written; `reason` is the system's code (ENOSPC, EACCES…). */
export class WriteError extends Error {
  readonly code = 'cannot-write';

  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot write ${file}: ${reason}`, options);
  }
}

/**
 * A database change that committed while its output file failed: says what was stored and the
 * command that fetches it, so a retry does not issue a duplicate.
 */
export class OutputNotWrittenError extends Error {
  readonly code = 'output-not-written';

  constructor(
    readonly write: WriteError,
    readonly stored: Record<Lang, string>,
    readonly fetch: string,
  ) {
    super(`${stored.en}, but ${write.message}; fetch it with \`${fetch}\``, { cause: write });
  }
}

// Codes whose failure says nothing about the request: the same command may work later.
const UNAVAILABLE = new Set([
  'unavailable',
  'locked',
  'token-not-found',
  'device-error',
  'network',
  'timeout',
  'http-status',
]);

/** The exit status for an error, by its code: one table for every command, default 1. */
export function exitCodeOf(e: unknown): ExitCode {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (code === 'usage') return EXIT.usage;
  if (code === 'output-not-written') return EXIT.outputNotWritten;
  if (typeof code === 'string' && UNAVAILABLE.has(code)) return EXIT.unavailable;
  return EXIT.failed;
}

const firstLine = (text: string) => text.split('\n')[0];

/** A system error's sentence: "No such file or directory: /x (ENOENT)". */
function systemError(code: string, file: string | undefined, lang: Lang): string {
  return `${headline(code, lang)}${file ? `: ${file}` : ''} (${code})`;
}

function writeProblem(w: WriteError, lang: Lang): string {
  const what = lang === 'vi' ? `Không ghi được tệp ${w.file}` : `Cannot write ${w.file}`;
  return `${what}: ${headline(w.reason, lang).toLowerCase()} (${w.reason})`;
}

/**
 * How an error leaves the command line: one human sentence in the user's language, with the raw
 * code only in parentheses, and the exit status. `command` names the help to point to on a usage error.
 */
export function describeError(
  e: unknown,
  options: { lang?: Lang; command?: string } = {},
): { line: string; exitCode: ExitCode } {
  const lang = options.lang ?? language();
  const exitCode = exitCodeOf(e);
  const err = e as Partial<NodeJS.ErrnoException> & { cause?: unknown };
  if (e instanceof UsageError) {
    const cause = err.cause as NodeJS.ErrnoException | undefined;
    const why = cause?.code ? `: ${headline(cause.code, lang).toLowerCase()} (${cause.code})` : '';
    const help = `kyso help${options.command ? ` ${options.command}` : ''}`;
    return {
      line: `${headline('usage', lang)}: ${firstLine(e.message)}${why}. ${PHRASES.seeHelp[lang]}: ${help}`,
      exitCode,
    };
  }
  if (e instanceof WriteError) return { line: writeProblem(e, lang), exitCode };
  if (e instanceof OutputNotWrittenError) {
    const next =
      lang === 'vi' ? 'Đừng chạy lại lệnh; lấy kết quả bằng' : 'Do not run it again; fetch it with';
    return {
      line: `${e.stored[lang]}. ${writeProblem(e.write, lang)}. ${next}: ${e.fetch}`,
      exitCode,
    };
  }
  if (err && typeof err.message === 'string' && typeof err.code === 'string') {
    if (err.syscall) return { line: systemError(err.code, err.path, lang), exitCode };
    if (err.constructor !== Error) {
      const message = firstLine(err.message);
      // A token's raw answer (C_Login: CKR_PIN_INCORRECT) is the detail, not the sentence.
      if (/\bCKR_[A-Z0-9_]+$/.test(message))
        return { line: `${headline(err.code, lang)} (${message})`, exitCode };
      return { line: `${headline(err.code, lang)}: ${message} (${err.code})`, exitCode };
    }
  }
  return {
    line: `${headline('internal', lang)}: ${firstLine(err?.message ?? String(e))} (${PHRASES.debug[lang]})`,
    exitCode,
  };
}
