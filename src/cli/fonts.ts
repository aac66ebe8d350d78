import { existsSync } from 'node:fs';
import { UsageError } from './errors.js';
import { readInput } from './ocsp.js';

// Times New Roman-compatible fonts that cover Vietnamese, where Debian puts them.
const STAMP_FONTS = [
  '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf',
];

/** The PDF report's faces: KYSO_REPORT_FONT (and KYSO_REPORT_FONT_BOLD), else a stamp font and its bold. */
export function reportFonts(): { regular: Uint8Array; bold?: Uint8Array } {
  const chosen = process.env.KYSO_REPORT_FONT;
  const regular = chosen ?? STAMP_FONTS.find((f) => existsSync(f));
  if (!regular)
    throw new UsageError(
      '--report needs a TrueType font that covers Vietnamese: set KYSO_REPORT_FONT=FILE.ttf',
    );
  // Without a bold face the report draws its headings bold from the regular one.
  const bold = chosen ? process.env.KYSO_REPORT_FONT_BOLD : regular.replace(/(-Regular)?\.ttf$/, '-Bold.ttf');
  return {
    regular: readInput(regular, 'report font'),
    bold: bold && (chosen || existsSync(bold)) ? readInput(bold, 'bold report font') : undefined,
  };
}

export function stampFont(file: string | undefined): Uint8Array {
  const path = file ?? process.env.KYSO_STAMP_FONT ?? STAMP_FONTS.find((f) => existsSync(f));
  if (!path) throw new UsageError('--stamp needs a TrueType font: --font FILE.ttf (or KYSO_STAMP_FONT)');
  return readInput(path, 'font');
}
