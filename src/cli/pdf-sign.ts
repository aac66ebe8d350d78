import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
// Only the PKCS#11 path loads the key backends and configuration (native module, zod): see signingKey.
import { KeyError } from '../keys/errors.js';
import { p12Signer, readPkcs12 } from '../keys/pkcs12.js';
import type { Signer } from '../keys/signer.js';
import {
  type AppearanceRect,
  anchorAppearance,
  type DigestTimeStampCallback,
  type DocMdpLevel,
  extendPdf,
  type LockFields,
  PdfDocument,
  PdfError,
  type SignatureAppearance,
  type SignPdfOptions,
  signPdfRevision,
  type TimeStampCallback,
  vietnamTime,
} from '../pdf/index.js';
import { defaultSignatureAlgorithm, keySpecOf, type SignatureAlgorithm } from '../pki/index.js';
import { parseArgs, timeoutOption } from './args.js';
import { writeFileAtomicallyAsync } from './atomic-file.js';
import { httpIssuerFetcher } from './ca-issuers.js';
import { UsageError } from './errors.js';
import { stampFont } from './fonts.js';
import { certificateFile, httpUrl, readInput } from './ocsp.js';
import { type Io, printJson } from './output.js';
import { inOrder, isStructureError, type PdfFile, readPdfFile } from './pdf-file.js';
import { EXTEND_USAGE, SIGN_USAGE } from './pdf-help.js';
import { httpRevocationSource } from './revocation-source.js';
import { checkSigningCertificate } from './signing-certificate.js';
import { requestTimeStamp } from './ts.js';

// `kyso pdf sign` and `kyso pdf extend`: the key, the level, the appearance, and the signed file written.

/** A secret given the OpenSSL way: env:VAR, file:PATH (its first line) or pass:TEXT. */
function readSecret(spec: string, option: string): string {
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const value = spec.slice(colon + 1);
  if (kind === 'pass') return value;
  if (kind === 'env') {
    const v = process.env[value];
    if (v === undefined) throw new UsageError(`${option} env:${value}: the variable is not set`);
    return v;
  }
  if (kind === 'file') {
    try {
      return readFileSync(value, 'utf8').split(/\r?\n/)[0];
    } catch (e) {
      throw new UsageError(`${option}: cannot read ${value}: ${(e as NodeJS.ErrnoException).code ?? ''}`);
    }
  }
  throw new UsageError(`${option} must be env:VAR, file:PATH or pass:TEXT`);
}

/** The PKCS#11 PIN from KYSO_PKCS11_PIN or the file KYSO_PKCS11_PIN_FILE names. */
function pkcs11Pin(): string {
  if (process.env.KYSO_PKCS11_PIN !== undefined) return process.env.KYSO_PKCS11_PIN;
  const file = process.env.KYSO_PKCS11_PIN_FILE;
  if (file === undefined)
    throw new UsageError('set KYSO_PKCS11_PIN or KYSO_PKCS11_PIN_FILE for --pkcs11-token');
  return readSecret(`file:${file}`, 'KYSO_PKCS11_PIN_FILE');
}

/** The signing key, its certificate and chain, and a release for a PKCS#11 session. */
interface SigningKey {
  signer: Signer;
  certificate: Uint8Array;
  chain: Uint8Array[];
  close(): Promise<void>;
}

type SignValues = ReturnType<typeof parseSign>['values'];

function parseSign(args: string[]) {
  return parseArgs(
    args,
    {
      out: { type: 'string' },
      p12: { type: 'string' },
      passin: { type: 'string' },
      key: { type: 'string' },
      cert: { type: 'string' },
      chain: { type: 'string', multiple: true },
      'pkcs11-token': { type: 'string' },
      'pkcs11-key': { type: 'string' },
      'rsa-padding': { type: 'string' },
      level: { type: 'string' },
      tsa: { type: 'string' },
      timeout: { type: 'string' },
      reason: { type: 'string' },
      location: { type: 'string' },
      name: { type: 'string' },
      field: { type: 'string' },
      page: { type: 'string' },
      image: { type: 'string' },
      rect: { type: 'string' },
      anchor: { type: 'string' },
      size: { type: 'string' },
      seal: { type: 'boolean' },
      stamp: { type: 'string' },
      font: { type: 'string' },
      certify: { type: 'string' },
      'lock-fields': { type: 'string' },
    },
    { min: 1, max: 1, usage: SIGN_USAGE },
  );
}

async function signingKey(values: SignValues, padding: 'pss' | 'pkcs1'): Promise<SigningKey> {
  const sources = [values.p12, values.key, values['pkcs11-token']].filter((v) => v !== undefined);
  if (sources.length !== 1) throw new UsageError('give exactly one of --p12, --key and --pkcs11-token');
  const chain = (values.chain ?? []).flatMap((f) => certificateFile(f, 'chain'));
  const noop = async () => {};
  const softKey = (privateKey: KeyObject) => {
    const spec = keySpecOf(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    if (!spec) throw new KeyError('unsupported', 'the key is not EC P-256/P-384 or RSA 2048/3072/4096');
    return p12Signer({ privateKey }, defaultSignatureAlgorithm(spec, padding));
  };
  if (values.p12) {
    if (values.cert) throw new UsageError('--p12 carries its certificate: leave out --cert');
    if (!values.passin) throw new UsageError('--p12 needs --passin env:VAR|file:PATH|pass:TEXT');
    const p12 = readPkcs12(readInput(values.p12, 'PKCS#12 file'), readSecret(values.passin, '--passin'));
    return {
      signer: softKey(p12.privateKey),
      certificate: p12.certificate,
      chain: [...p12.chain, ...chain],
      close: noop,
    };
  }
  if (!values.cert) throw new UsageError('--key and --pkcs11-token need --cert CERT.pem');
  const [certificate] = certificateFile(values.cert, 'certificate');
  if (values.key) {
    const pem = readInput(values.key, 'private key');
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({
        key: Buffer.from(pem),
        passphrase: values.passin ? readSecret(values.passin, '--passin') : undefined,
      });
    } catch (e) {
      throw new KeyError(
        'invalid-input',
        `cannot read the private key ${values.key}: ${(e as Error).message}`,
      );
    }
    return { signer: softKey(privateKey), certificate, chain, close: noop };
  }
  const keyLabel = values['pkcs11-key'];
  if (!keyLabel) throw new UsageError('--pkcs11-token needs --pkcs11-key LABEL');
  const [{ openKeyBackend }, { DEFAULT_PKCS11_MODULE }] = await Promise.all([
    import('../keys/index.js'),
    import('../config.js'),
  ]);
  const backend = await openKeyBackend({
    kind: 'pkcs11',
    module: process.env.KYSO_PKCS11_MODULE ?? DEFAULT_PKCS11_MODULE,
    tokenLabel: values['pkcs11-token'] as string,
    pin: pkcs11Pin(),
    poolSize: 1,
  });
  try {
    const ref = `pkcs11:${keyLabel}`;
    const spec = keySpecOf(await backend.publicKey(ref));
    if (!spec) throw new KeyError('unsupported', `the key ${keyLabel} is of a type Kyso does not sign with`);
    const signer = await backend.signer(ref, defaultSignatureAlgorithm(spec, padding));
    return { signer, certificate, chain, close: () => backend.close() };
  } catch (e) {
    await backend.close();
    throw e;
  }
}

/** An RFC 3161 time-stamp over the signature value from the TSA at url, checked before it is embedded. */
function tsaCallback(url: string, timeoutMs?: number): TimeStampCallback {
  return (signatureValue) =>
    stampImprint(url, Uint8Array.from(createHash('sha256').update(signatureValue).digest()), timeoutMs);
}

/** A document time-stamp (B-LTA) from the TSA at url: a token over the document's SHA-256 digest. */
function documentTsaCallback(url: string, timeoutMs?: number): DigestTimeStampCallback {
  return (digest) => stampImprint(url, digest, timeoutMs);
}

/** A token from the TSA at url over a SHA-256 imprint, its reply checked. */
async function stampImprint(url: string, imprint: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
  return (await requestTimeStamp(url, imprint, 'sha256', timeoutMs)).token;
}

/** --certify P1|P2|P3: the DocMDP level. */
function certifyOption(value: string | undefined): DocMdpLevel | undefined {
  if (value === undefined) return undefined;
  const m = /^P([123])$/i.exec(value);
  if (!m) throw new UsageError(`--certify must be P1, P2 or P3, got "${value}"`);
  return Number(m[1]) as DocMdpLevel;
}

/** --lock-fields all|NAME,NAME: the fields a FieldMDP lock covers. */
function lockFieldsOption(value: string | undefined): LockFields | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return 'all';
  const names = value.split(',').map((n) => n.trim());
  if (names.some((n) => !n)) throw new UsageError(`--lock-fields must be all or NAME,NAME, got "${value}"`);
  return { include: names };
}

/** --page N or last (-1, as the appearance engine takes it). */
function pageOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'last') return -1;
  if (!/^[1-9]\d{0,5}$/.test(value))
    throw new UsageError(`--page must be a page number or last, got "${value}"`);
  return Number(value);
}

/** --rect x,y,w,h in points from the page's bottom-left corner. */
function rectOption(value: string | undefined): AppearanceRect {
  if (value === undefined) throw new UsageError('--image needs --rect x,y,width,height (points)');
  const parts = value.split(',').map((v) => Number(v.trim()));
  if (parts.length !== 4 || parts.some((v) => !Number.isFinite(v)) || parts[2] <= 0 || parts[3] <= 0)
    throw new UsageError(`--rect must be x,y,width,height with a positive width and height, got "${value}"`);
  return parts as AppearanceRect;
}

/** --size w,h (or --rect w,h with --anchor) in points. */
function sizeOption(value: string | undefined, option: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((v) => Number(v.trim()));
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v) || v <= 0))
    throw new UsageError(
      `with --anchor, ${option} is width,height (the place comes from the text), got "${value}"`,
    );
  return parts as [number, number];
}

/** --anchor TEXT: the image or seal placed by a text on the page, as Decree 30/2020 lays out a signing block. */
function anchoredOf(values: SignValues, anchor: string, readPdf: () => Uint8Array): SignatureAppearance {
  if (values.stamp !== undefined) throw new UsageError('--anchor places an image: leave out --stamp');
  if (values.image === undefined) throw new UsageError('--anchor needs --image PNG');
  if (!anchor.trim()) throw new UsageError('--anchor needs a text to find, such as the full name');
  if (values.size !== undefined && values.rect !== undefined)
    throw new UsageError('give the size once: --size w,h or --rect w,h');
  const size = sizeOption(values.size ?? values.rect, values.size !== undefined ? '--size' : '--rect');
  const png = readInput(values.image, 'PNG image');
  const { appearance } = anchorAppearance(PdfDocument.open(readPdf()), {
    kind: values.seal ? 'seal' : 'image',
    png,
    text: anchor,
    page: pageOption(values.page),
    size,
  });
  return appearance;
}

/** The appearance the flags ask for, or undefined for an invisible signature. */
function appearanceOf(
  values: SignValues,
  signingTime: Date,
  readPdf: () => Uint8Array,
): SignatureAppearance | undefined {
  if (values.anchor !== undefined) return anchoredOf(values, values.anchor, readPdf);
  if (values.size !== undefined) throw new UsageError('--size goes with --anchor');
  if (values.stamp !== undefined) {
    if (values.image !== undefined || values.seal || values.rect !== undefined)
      throw new UsageError('--stamp is a text stamp: leave out --image, --seal and --rect');
    // Decree 30/2020: "number/symbol; signing time" in ISO 8601, Vietnam time, as /M claims it.
    const text = `${values.stamp}; ${vietnamTime(signingTime)}`;
    return { kind: 'stamp', text, font: stampFont(values.font) };
  }
  if (values.image === undefined) {
    if (values.seal || values.rect !== undefined || values.font !== undefined)
      throw new UsageError('--seal, --rect and --font go with --image PNG (or --stamp for --font)');
    return undefined;
  }
  const rect = rectOption(values.rect);
  const page = pageOption(values.page) ?? -1;
  return { kind: values.seal ? 'seal' : 'image', png: readInput(values.image, 'PNG image'), page, rect };
}

export async function sign(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseSign(args);
  if (!values.out) throw new UsageError('kyso pdf sign needs --out OUT.pdf');
  const level = values.level ?? 'B-B';
  if (!['B-B', 'B-T', 'B-LT', 'B-LTA'].includes(level))
    throw new UsageError(`--level must be B-B, B-T, B-LT or B-LTA, got "${level}"`);
  if (level !== 'B-B' && !values.tsa) throw new UsageError(`--level ${level} needs --tsa URL`);
  if (level === 'B-B' && values.tsa) throw new UsageError('--tsa goes with --level B-T, B-LT or B-LTA');
  const timeoutMs = timeoutOption(values.timeout);
  const signingTime = new Date();
  let input: Uint8Array | undefined;
  const readPdf = () => {
    input ??= readInput(positionals[0], 'PDF');
    return input;
  };
  const appearance = appearanceOf(values, signingTime, readPdf);
  const padding = values['rsa-padding'] ?? 'pss';
  if (padding !== 'pss' && padding !== 'pkcs1') throw new UsageError('--rsa-padding must be pss or pkcs1');
  const page = appearance ? undefined : pageOption(values.page);
  if (page === -1)
    throw new UsageError('--page last goes with --image; give an invisible signature a page number');
  const tsa = values.tsa ? httpUrl(values.tsa, '--tsa') : undefined;
  // B-B and B-T of a large file read only its structure (see pdf-file.ts); the rest needs it whole.
  const leanLevel = level === 'B-B' || level === 'B-T';
  let file: PdfFile =
    input !== undefined
      ? { bytes: input, sparse: false, chunks: () => [readPdf()] }
      : readPdfFile(positionals[0], { sparse: leanLevel });
  const certify = certifyOption(values.certify);
  const lockFields = lockFieldsOption(values['lock-fields']);
  const key = await signingKey(values, padding);
  const source = httpRevocationSource({ timeoutMs });
  let revision: Uint8Array;
  let chain: Uint8Array[];
  try {
    // Before anything is signed or written: a certificate that makes an invalid signature is refused.
    const checked = await checkSigningCertificate(key.certificate, key.chain, {
      at: signingTime,
      source,
      fetchIssuers: httpIssuerFetcher({ timeoutMs }),
    });
    for (const w of checked.warnings) io.err(`kyso: warning: ${w}\n`);
    chain = checked.chain;
    const options: SignPdfOptions = {
      signer: key.signer,
      certificate: key.certificate,
      chain,
      timestamp: tsa ? tsaCallback(tsa, timeoutMs) : undefined,
      fieldName: values.field,
      page,
      appearance,
      signingTime,
      name: values.name,
      reason: values.reason,
      location: values.location,
      certify,
      lockFields,
    };
    try {
      revision = await signPdfRevision(file.bytes, {
        ...options,
        original: file.sparse ? file.chunks : undefined,
      });
    } catch (e) {
      // What the sparse read left out was needed after all: read the whole file and sign again.
      if (!(file.sparse && e instanceof PdfError && isStructureError(e.code))) throw e;
      file = readPdfFile(positionals[0], { sparse: false });
      revision = await signPdfRevision(file.bytes, options);
    }
  } finally {
    await key.close();
  }
  let parts: Iterable<Uint8Array> = inOrder(file.chunks(), [revision]);
  let bytes = file.bytes.length + revision.length;
  let problems: string[] = [];
  if ((level === 'B-LT' || level === 'B-LTA') && tsa) {
    const extended = await extendPdf(Buffer.concat([file.bytes, revision]), {
      level,
      source,
      certificates: chain,
      stamp: documentTsaCallback(tsa, timeoutMs),
    });
    parts = [extended.pdf];
    bytes = extended.pdf.length;
    problems = extended.problems;
  }
  await writeFileAtomicallyAsync(values.out, parts);
  warnIncomplete(io, level, problems);
  const algorithm: SignatureAlgorithm = key.signer.algorithm;
  if (values.json) printJson(io, { out: values.out, level, algorithm, bytes, problems });
  else io.out(`Đã ký / Signed: ${positionals[0]} → ${values.out} (PAdES ${level}, ${algorithm})\n`);
  return 0;
}

/** Says on stderr what validation data could not be had: the file is written, but short of its level. */
function warnIncomplete(io: Io, level: string, problems: string[]): void {
  for (const p of problems) io.err(`kyso: warning: ${level} is incomplete: ${p}\n`);
}

/** `kyso pdf extend`: adds validation data (B-LT) and a document time-stamp (B-LTA) to a signed PDF. */
export async function extend(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {
      out: { type: 'string' },
      level: { type: 'string' },
      tsa: { type: 'string' },
      chain: { type: 'string', multiple: true },
      timeout: { type: 'string' },
    },
    { min: 1, max: 1, usage: EXTEND_USAGE },
  );
  if (!values.out) throw new UsageError('kyso pdf extend needs --out OUT.pdf');
  const level = values.level ?? 'B-LT';
  if (level !== 'B-LT' && level !== 'B-LTA')
    throw new UsageError(`--level must be B-LT or B-LTA, got "${level}"`);
  if (level === 'B-LTA' && !values.tsa) throw new UsageError('--level B-LTA needs --tsa URL');
  const tsa = values.tsa ? httpUrl(values.tsa, '--tsa') : undefined;
  const timeoutMs = timeoutOption(values.timeout);
  const chain = (values.chain ?? []).flatMap((f) => certificateFile(f, 'certificate chain'));
  const pdf = readInput(positionals[0], 'PDF');
  let result: Awaited<ReturnType<typeof extendPdf>>;
  try {
    result = await extendPdf(pdf, {
      level,
      source: httpRevocationSource({ timeoutMs }),
      certificates: chain,
      stamp: tsa ? documentTsaCallback(tsa, timeoutMs) : undefined,
    });
  } catch (e) {
    if (e instanceof PdfError && e.code === 'bad-input') throw new UsageError(e.message);
    throw e;
  }
  await writeFileAtomicallyAsync(values.out, [result.pdf]);
  warnIncomplete(io, level, result.problems);
  if (values.json)
    printJson(io, { out: values.out, level, bytes: result.pdf.length, problems: result.problems });
  else io.out(`Đã bổ sung / Extended: ${positionals[0]} → ${values.out} (PAdES ${level})\n`);
  return 0;
}
