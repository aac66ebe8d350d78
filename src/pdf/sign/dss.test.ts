import { describe, expect, it } from 'vitest';
import { minimalPdf } from '../../../test/pdf/fixtures.js';
import { IncrementalUpdate, PdfDocument } from '../syntax/index.js';
import { addDss, readAllDss, readDss, vriKey } from './dss.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const text = (pdf: Uint8Array) => Buffer.from(pdf).toString('latin1');

describe('the DSS', () => {
  it('is appended as an incremental update, and read back', () => {
    const pdf = minimalPdf();
    const out = addDss(pdf, { certs: [bytes(0x30, 1)], ocsps: [bytes(0x30, 2)], crls: [bytes(0x30, 3)] });
    expect(Buffer.compare(out.subarray(0, pdf.length), pdf)).toBe(0);
    expect(readDss(PdfDocument.open(out))).toEqual({
      certs: [bytes(0x30, 1)],
      ocsps: [bytes(0x30, 2)],
      crls: [bytes(0x30, 3)],
    });
    expect(readDss(PdfDocument.open(pdf))).toEqual({ certs: [], ocsps: [], crls: [] });
  });

  it('extends an existing DSS: its entries stay, each item once', () => {
    const once = addDss(minimalPdf(), { certs: [bytes(1), bytes(2)] });
    const twice = addDss(once, { certs: [bytes(2), bytes(3), bytes(3)], crls: [bytes(9)] });
    expect(readDss(PdfDocument.open(twice))).toEqual({
      certs: [bytes(1), bytes(2), bytes(3)],
      ocsps: [],
      crls: [bytes(9)],
    });
    // The DSS is one indirect object: the second update rewrites it, not the catalog.
    const doc = PdfDocument.open(twice);
    expect(doc.revisions()).toHaveLength(3);
    expect(readAllDss(twice).certs).toHaveLength(3);
  });

  it('reads what the DSS of every revision held, even one a later revision dropped', () => {
    const withDss = addDss(minimalPdf(), { ocsps: [bytes(0x30, 5)] });
    const doc = PdfDocument.open(withDss);
    const update = new IncrementalUpdate(doc);
    const catalog = doc.catalog().copy();
    catalog.delete('DSS');
    update.set(doc.rootRef(), catalog);
    const dropped = update.write().bytes;
    expect(readDss(PdfDocument.open(dropped)).ocsps).toEqual([]);
    expect(readAllDss(dropped).ocsps).toEqual([bytes(0x30, 5)]);
  });

  it('keys /VRI by the upper-case hex SHA-1 of the signature /Contents', () => {
    const contents = bytes(0x30, 0x03, 1, 2, 3, 0, 0);
    const key = vriKey(contents);
    expect(key).toMatch(/^[0-9A-F]{40}$/);
    const out = addDss(minimalPdf(), { vri: [{ contents, ocsps: [bytes(0x30, 7)] }] });
    expect(text(out)).toContain(`/VRI << /${key} << /Type /VRI /OCSP [`);
    // What a VRI names is in the arrays too.
    expect(readDss(PdfDocument.open(out)).ocsps).toEqual([bytes(0x30, 7)]);
  });
});
