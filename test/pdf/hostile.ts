import { PdfDocument } from '../../src/pdf/index.js';

// Hostile shapes built in memory, for the tests and the benchmark: cheap to write, each aimed at one
// place where a parser's cost could grow faster than its input.

const latin1 = (s: string) => Buffer.from(s, 'latin1');

/**
 * The PDF followed by `count` tiny incremental updates, each rewriting the information dictionary
 * (an allowed metadata change) in its own classic cross-reference section.
 */
export function manyRevisions(pdf: Uint8Array, count: number): Uint8Array {
  const doc = PdfDocument.open(pdf);
  const root = doc.rootRef();
  const info = doc.trailerEntry('Info');
  const infoNum = info && typeof info === 'object' && 'num' in info ? info.num : doc.size;
  const size = Math.max(doc.size, infoNum + 1);
  const parts: Buffer[] = [Buffer.from(pdf)];
  let length = pdf.length;
  let prev = doc.startxref;
  for (let i = 1; i <= count; i++) {
    const object = `${infoNum} 0 obj\n<< /Producer (update ${i}) >>\nendobj\n`;
    const xref = length + object.length;
    const tail =
      `xref\n0 1\n0000000000 65535 f\r\n${infoNum} 1\n${String(length).padStart(10, '0')} 00000 n\r\n` +
      `trailer\n<< /Size ${size} /Root ${root.num} ${root.gen} R /Info ${infoNum} 0 R /Prev ${prev} >>\n` +
      `startxref\n${xref}\n%%EOF\n`;
    const chunk = latin1(object + tail);
    parts.push(chunk);
    length += chunk.length;
    prev = xref;
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A one-object PDF whose catalog holds `value` under /Hostile, with a well-formed structure around it. */
export function pdfWith(value: Buffer): Uint8Array {
  const head = latin1('%PDF-1.7\n');
  const obj1 = Buffer.concat([
    latin1('1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Hostile '),
    value,
    latin1(' >>\nendobj\n'),
  ]);
  const obj2 = latin1('2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n');
  const obj3 = latin1('3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n');
  const offsets = [head.length, head.length + obj1.length, head.length + obj1.length + obj2.length];
  const xref = offsets[2] + obj3.length;
  const table =
    `xref\n0 4\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}` +
    `trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.concat([head, obj1, obj2, obj3, latin1(table)]));
}

/** A literal string of `depth` nested parentheses: `((((…))))`. */
export function nestedParentheses(depth: number): Buffer {
  return Buffer.concat([Buffer.alloc(depth, '('), Buffer.alloc(depth, ')')]);
}

/** An array of `count` small integers: `[0 0 0 …]`. */
export function longArray(count: number): Buffer {
  const body = Buffer.alloc(count * 2, '0 ');
  return Buffer.concat([latin1('['), body, latin1(']')]);
}
