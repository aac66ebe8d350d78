import { runSubcommand } from './args.js';
import type { Io } from './output.js';
import { PDF_HELP } from './pdf-help.js';
import { extend, sign } from './pdf-sign.js';
import { verify } from './pdf-verify.js';

export { PDF_HELP } from './pdf-help.js';

/** `kyso pdf …`: signs PDFs and verifies their signatures. */
export async function pdfCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand('pdf', PDF_HELP, { sign, extend, verify }, args, io);
}
