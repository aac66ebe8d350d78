import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../support/env.js';

/** One signature as found in the raw bytes, without Kyso's reader: its ByteRange, CMS and signed bytes. */
export interface RawSignature {
  byteRange: [number, number, number, number];
  /** The CMS DER, zero padding removed. */
  cms: Uint8Array;
  signed: Uint8Array;
}

/** Every /ByteRange in the file, with the hex string in its gap decoded and the signed bytes joined. */
export function rawSignatures(pdf: Uint8Array): RawSignature[] {
  const text = Buffer.from(pdf).toString('latin1');
  const out: RawSignature[] = [];
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const br = m.slice(1, 5).map(Number) as RawSignature['byteRange'];
    const hex = text.slice(br[1] + 1, br[2] - 1);
    const der = Buffer.from(hex, 'hex');
    out.push({
      byteRange: br,
      cms: der.subarray(0, derLength(der)),
      signed: Buffer.concat([pdf.subarray(br[0], br[0] + br[1]), pdf.subarray(br[2], br[2] + br[3])]),
    });
  }
  return out;
}

function derLength(der: Uint8Array): number {
  if (!(der[1] & 0x80)) return 2 + der[1];
  const n = der[1] & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
  return 2 + n + len;
}

/** `qpdf --check` output, and whether it found no errors. */
export function qpdfCheck(dir: string, pdf: Uint8Array, label: string): { ok: boolean; output: string } {
  const file = path.join(dir, `${label}.pdf`);
  writeFileSync(file, pdf);
  const r = run('qpdf', ['--check', file]);
  const output = r.stdout + r.stderr;
  return { ok: r.code === 0 && output.includes('No syntax or stream encoding errors found'), output };
}

/** One signature as pdfsig reports it. */
export interface PdfsigSignature {
  field: string;
  validation: string;
  ranges: string;
  total: boolean;
  type: string;
}

/** Runs `pdfsig -nocert` and reads its report. */
export function pdfsig(
  dir: string,
  pdf: Uint8Array,
  label: string,
): { signatures: PdfsigSignature[]; output: string } {
  const file = path.join(dir, `${label}.pdf`);
  writeFileSync(file, pdf);
  const r = run('pdfsig', ['-nocert', file]);
  const output = r.stdout + r.stderr;
  const signatures = output
    .split(/^Signature #\d+:$/m)
    .slice(1)
    .map((block) => ({
      field: /Signature Field Name: (.*)$/m.exec(block)?.[1] ?? '',
      validation: /Signature Validation: (.*)$/m.exec(block)?.[1] ?? '',
      ranges: /Signed Ranges: (.*)$/m.exec(block)?.[1] ?? '',
      total: /^\s+- Total document signed$/m.test(block),
      type: /Signature Type: (.*)$/m.exec(block)?.[1] ?? '',
    }));
  return { signatures, output };
}

/** pdfsig's form of a ByteRange: "[0 - b], [c - c+d]". */
export const pdfsigRanges = (br: [number, number, number, number]) =>
  `[${br[0]} - ${br[1]}], [${br[2]} - ${br[2] + br[3]}]`;

/** `openssl cms -verify` of a detached CMS over its content, against the test root and issuing CA. */
export function opensslCmsVerify(
  dir: string,
  sig: RawSignature,
  pems: { root: string; issuing: string },
  label: string,
): { ok: boolean; output: string } {
  const cms = path.join(dir, `${label}.p7s`);
  const content = path.join(dir, `${label}.bin`);
  writeFileSync(cms, sig.cms);
  writeFileSync(content, sig.signed);
  const r = run('openssl', [
    'cms',
    '-verify',
    '-inform',
    'DER',
    '-in',
    cms,
    '-content',
    content,
    '-binary',
    '-CAfile',
    pems.root,
    '-certfile',
    pems.issuing,
    '-purpose',
    'any',
    '-out',
    path.join(dir, `${label}.out`),
  ]);
  const output = r.stdout + r.stderr;
  return { ok: r.code === 0 && output.includes('Verification successful'), output };
}

/** `openssl ts -verify` of a token over data, against the test root, with the TSA's chain untrusted. */
export function opensslTsVerify(
  dir: string,
  token: Uint8Array,
  data: Uint8Array,
  pems: { root: string; issuing: string; tsa: string },
  label: string,
): { ok: boolean; output: string } {
  const tokenFile = path.join(dir, `${label}.tst`);
  const dataFile = path.join(dir, `${label}.data`);
  const untrusted = path.join(dir, `${label}-untrusted.pem`);
  writeFileSync(tokenFile, token);
  writeFileSync(dataFile, data);
  writeFileSync(untrusted, [pems.issuing, pems.tsa].map((p) => readFileSync(p, 'utf8')).join(''));
  const r = run('openssl', [
    'ts',
    '-verify',
    '-data',
    dataFile,
    '-in',
    tokenFile,
    '-token_in',
    '-CAfile',
    pems.root,
    '-untrusted',
    untrusted,
  ]);
  const output = r.stdout + r.stderr;
  return { ok: r.code === 0 && output.includes('Verification: OK'), output };
}
