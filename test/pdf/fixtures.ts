import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../support/env.js';

/** What the minimal PDF holds. */
export interface MinimalPdfOptions {
  pages?: number;
  /** Adds an AcroForm with one filled text field on the first page. */
  textField?: boolean;
  /** Leaves out the trailer /ID. */
  noId?: boolean;
}

/** A small valid PDF with a classic xref table: a few pages of Helvetica text, written by hand. */
export function minimalPdf(options: MinimalPdfOptions = {}): Uint8Array {
  const pages = options.pages ?? 3;
  const objects: string[] = [];
  const add = (body: string) => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add('');
  const tree = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const info = add('<< /Title (Kyso test document) /Producer (Kyso tests) >>');
  const kids: number[] = [];
  for (let i = 1; i <= pages; i++) {
    const text = `BT /F1 24 Tf 72 720 Td (Trang ${i} / Page ${i}) Tj ET\nBT /F1 12 Tf 72 690 Td (Kyso) Tj ET\n`;
    const content = add(`<< /Length ${text.length} >>\nstream\n${text}endstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${tree} 0 R /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  let form = '';
  if (options.textField) {
    const field = add(
      `<< /FT /Tx /T (Ho ten) /V (Nguyen Van A) /Type /Annot /Subtype /Widget /Rect [72 600 300 624] /P ${kids[0]} 0 R /DA (/Helv 12 Tf 0 g) /F 4 >>`,
    );
    // The page dictionary's own closing >> is its last one (its /Resources nest before it).
    objects[kids[0] - 1] = objects[kids[0] - 1].replace(/ >>$/, ` /Annots [${field} 0 R] >>`);
    const acro = add(
      `<< /Fields [${field} 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv ${font} 0 R >> >> >>`,
    );
    form = ` /AcroForm ${acro} 0 R`;
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${tree} 0 R${form} >>`;
  objects[tree - 1] =
    `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${pages} /MediaBox [0 0 595 842] >>`;

  let out = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  const id = options.noId
    ? ''
    : ' /ID [<4B59534F2D544553542D49442D303031> <4B59534F2D544553542D49442D303031>]';
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R${id} >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, 'latin1'));
}

/** Runs qpdf with the given options over a PDF and returns its output (exit code 3 is "warnings"). */
export function qpdf(dir: string, pdf: Uint8Array, args: string[], label: string): Uint8Array {
  const input = path.join(dir, `${label}-in.pdf`);
  const output = path.join(dir, `${label}-out.pdf`);
  writeFileSync(input, pdf);
  const r = run('qpdf', [...args, input, output]);
  if (r.code !== 0 && r.code !== 3) throw new Error(`qpdf ${args.join(' ')} failed: ${r.stderr}`);
  return new Uint8Array(readFileSync(output));
}

/** The three layouts the tests sign: classic table, xref and object streams, linearized. */
export function variants(
  dir: string,
  base: Uint8Array,
): Record<'classic' | 'xref-stream' | 'linearized', Uint8Array> {
  return {
    classic: base,
    'xref-stream': qpdf(dir, base, ['--object-streams=generate'], 'objstm'),
    linearized: qpdf(dir, base, ['--linearize'], 'linear'),
  };
}
