import { createHash } from 'node:crypto';
import {
  PdfError,
  type ReportPdfOptions,
  renderReport,
  renderReportPdf,
  type VerificationReport,
  verifyPdf,
} from '../pdf/index.js';
import { parseArgs, timeoutOption } from './args.js';
import { writeFileAtomicallyAsync } from './atomic-file.js';
import { httpIssuerFetcher } from './ca-issuers.js';
import { describeError, UsageError } from './errors.js';
import { reportFonts } from './fonts.js';
import { readInput } from './ocsp.js';
import { type Io, printJson } from './output.js';
import { VERIFY_EXIT, VERIFY_USAGE, VERIFY_USAGE_EXIT } from './pdf-help.js';
import { httpRevocationSource } from './revocation-source.js';
import { trustAnchors } from './trust.js';

// `kyso pdf verify`: the report, as text, JSON or a PDF, and an exit status that is the verdict.

/** `kyso pdf verify FILE`: exits with the verdict (0, 1, 2), or 3 for a usage error. */
export async function verify(args: string[], io: Io): Promise<number> {
  // Exit 1 and 2 are verdicts here, so failures other than usage errors leave as indeterminate.
  try {
    return await verifyCommand(args, io);
  } catch (e) {
    const { line } = describeError(e);
    io.err(`kyso: ${line}\n`);
    if (process.env.KYSO_DEBUG) io.err(`${(e as Error)?.stack ?? e}\n`);
    return e instanceof UsageError ? VERIFY_USAGE_EXIT : VERIFY_EXIT.indeterminate;
  }
}

async function verifyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {
      ca: { type: 'string', multiple: true },
      trust: { type: 'string', multiple: true },
      lang: { type: 'string' },
      report: { type: 'string' },
      offline: { type: 'boolean' },
      timeout: { type: 'string' },
    },
    { min: 1, max: 1, usage: VERIFY_USAGE },
  );
  const lang = values.lang ?? 'vi';
  if (lang !== 'vi' && lang !== 'en') throw new UsageError(`--lang must be vi or en, got "${lang}"`);
  const fonts = values.report === undefined ? undefined : reportFonts();
  const file = positionals[0];
  const pdf = readInput(file, 'PDF');
  const anchors = await trustAnchors([...(values.ca ?? []), ...(values.trust ?? [])], values.data, io);
  const timeoutMs = timeoutOption(values.timeout);
  const online = !values.offline;
  const report = await verifyPdf(pdf, {
    trustAnchors: anchors,
    certificates: anchors,
    revocation: online ? httpRevocationSource({ timeoutMs }) : undefined,
    fetchIssuers: online ? httpIssuerFetcher({ timeoutMs }) : undefined,
  });
  if (values.report !== undefined && fonts) {
    const sha256 = createHash('sha256').update(pdf).digest('hex');
    await writeReport(values.report, report, { file, sha256, lang, fonts, checkedAt: new Date() });
  }
  if (values.json) printJson(io, report);
  else io.out(renderReport(file, report, lang));
  return VERIFY_EXIT[report.verdict];
}

/** Writes the PDF report; a font the renderer cannot use is the caller's mistake, so a usage error. */
async function writeReport(
  out: string,
  report: VerificationReport,
  options: ReportPdfOptions,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = renderReportPdf(report, options);
  } catch (e) {
    if (e instanceof PdfError) throw new UsageError(`--report: ${e.message}`);
    throw e;
  }
  await writeFileAtomicallyAsync(out, [bytes]);
}
