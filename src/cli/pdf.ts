import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_PKCS11_MODULE } from '../config.js';
import { KeyError, openKeyBackend, p12Signer, readPkcs12, type Signer } from '../keys/index.js';
import {
  type AppearanceRect,
  renderReport,
  type SignatureAppearance,
  type SignPdfOptions,
  signPdf,
  type TimeStampCallback,
  verifyPdf,
  vietnamTime,
} from '../pdf/index.js';
import {
  buildTimeStampRequest,
  defaultSignatureAlgorithm,
  fromPem,
  keySpecOf,
  parseTimeStampResponse,
  type SignatureAlgorithm,
  verifyTimeStampToken,
} from '../pki/index.js';
import { parseArgs, runSubcommand } from './args.js';
import { describeError, UsageError } from './errors.js';
import { ClientError, certificatesIn, fetchDer, httpUrl, readInput } from './ocsp.js';
import { type Io, printJson } from './output.js';

export const PDF_HELP = `kyso pdf COMMAND
  sign IN.pdf --out OUT.pdf KEY [--level B-B|B-T] [--tsa URL] [--reason TEXT] [--location TEXT]
      [--name TEXT] [--field NAME] [--rsa-padding pss|pkcs1] [APPEARANCE]
    appends a PAdES signature (ETSI.CAdES.detached) as an incremental update; KEY is one of
      --p12 FILE --passin SECRET                 a PKCS#12 file (openssl pkcs12 -export)
      --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] [--passin SECRET]   a PEM private key
      --pkcs11-token LABEL --pkcs11-key LABEL --cert CERT.pem [--chain CHAIN.pem]   a PKCS#11 key (PIN from
        KYSO_PKCS11_PIN or KYSO_PKCS11_PIN_FILE, module from KYSO_PKCS11_MODULE)
    SECRET is env:VAR, file:PATH or pass:TEXT (OpenSSL's convention). B-T time-stamps the signature at
    --tsa. Invisible by default (its widget on --page N); APPEARANCE (Decree 30/2020) is one of
      --image PNG --rect x,y,w,h [--page N|last]          the leader's signature image (default last page)
      --seal --image PNG --rect x,y,w,h [--page N|last]   the organization seal, at the size of --rect
      --stamp "NUMBER/SYMBOL" [--font FILE.ttf]           text stamp top-right of page 1, signing time added
    --rect is in points from the page's bottom-left corner.
    Exit status: 0 signed, 1 failed, 2 usage error.
  verify FILE.pdf [--ca FILE.pem]... [--json] [--lang vi|en]
    checks every signature: integrity, signer, chain to --ca (trust anchors, PEM), time-stamp; prints the
    report in Vietnamese (default) or English, or as JSON.
    Exit status: 0 valid, 1 invalid, 2 indeterminate, 3 usage error.`;

const SIGN_USAGE = 'kyso pdf sign IN.pdf --out OUT.pdf (--p12 FILE | --key FILE | --pkcs11-token LABEL) …';
const VERIFY_USAGE = 'kyso pdf verify FILE.pdf [--ca FILE.pem]... [--json] [--lang vi|en]';
const MAX_TSA_REPLY_BYTES = 1024 * 1024;
const VERIFY_EXIT = { valid: 0, invalid: 1, indeterminate: 2 } as const;
const VERIFY_USAGE_EXIT = 3;

/** `kyso pdf …`: signs PDFs and verifies their signatures. */
export async function pdfCommand(args: string[], io: Io): Promise<number> {
  return runSubcommand('pdf', PDF_HELP, { sign, verify }, args, io);
}

// ---------------------------------------------------------------- signing

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

function certificates(file: string, what: string): Uint8Array[] {
  const certs = certificatesIn(readInput(file, what));
  if (!certs.length) throw new UsageError(`${file} holds no certificate`);
  return certs;
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
      reason: { type: 'string' },
      location: { type: 'string' },
      name: { type: 'string' },
      field: { type: 'string' },
      page: { type: 'string' },
      image: { type: 'string' },
      rect: { type: 'string' },
      anchor: { type: 'string' },
      seal: { type: 'boolean' },
      stamp: { type: 'string' },
      font: { type: 'string' },
    },
    { min: 1, max: 1, usage: SIGN_USAGE },
  );
}

async function signingKey(values: SignValues, padding: 'pss' | 'pkcs1'): Promise<SigningKey> {
  const sources = [values.p12, values.key, values['pkcs11-token']].filter((v) => v !== undefined);
  if (sources.length !== 1) throw new UsageError('give exactly one of --p12, --key and --pkcs11-token');
  const chain = (values.chain ?? []).flatMap((f) => certificates(f, 'chain'));
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
  const [certificate] = certificates(values.cert, 'certificate');
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
function tsaCallback(url: string): TimeStampCallback {
  return async (signatureValue) => {
    const imprint = Uint8Array.from(createHash('sha256').update(signatureValue).digest());
    const nonce = Uint8Array.from(randomBytes(8));
    // A positive, minimal INTEGER.
    nonce[0] = (nonce[0] & 0x7f) | 0x01;
    const request = buildTimeStampRequest({
      hashAlgorithm: 'sha256',
      messageImprint: imprint,
      nonce,
      certReq: true,
    });
    const der = await fetchDer(
      url,
      { accept: 'application/timestamp-reply', body: request, contentType: 'application/timestamp-query' },
      MAX_TSA_REPLY_BYTES,
    );
    const reply = parseTimeStampResponse(der);
    // 0 granted, 1 grantedWithMods; anything else carries no usable token.
    if (reply.status > 1 || !reply.token || !reply.info)
      throw new ClientError(
        'ts-refused',
        `the TSA refused (PKIStatus ${reply.status})${reply.statusText ? `: ${reply.statusText}` : ''}`,
      );
    const { info } = reply;
    if (info.hashAlgorithm !== 'sha256' || Buffer.compare(info.messageImprint, imprint) !== 0)
      throw new ClientError('ts-mismatch', 'the TSA time-stamped another hash than the one sent');
    if (!info.nonce || Buffer.compare(info.nonce, nonce) !== 0)
      throw new ClientError('ts-nonce', "the TSA reply's nonce is not the request's");
    const checked = verifyTimeStampToken(reply.token, { messageImprint: imprint });
    if (!checked.ok)
      throw new ClientError('ts-invalid', `the TSA's token does not verify: ${checked.reason}`);
    return reply.token;
  };
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

// Times New Roman-compatible fonts that cover Vietnamese, where Debian puts them.
const STAMP_FONTS = [
  '/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf',
];

function stampFont(file: string | undefined): Uint8Array {
  const path = file ?? process.env.KYSO_STAMP_FONT ?? STAMP_FONTS.find((f) => existsSync(f));
  if (!path) throw new UsageError('--stamp needs a TrueType font: --font FILE.ttf (or KYSO_STAMP_FONT)');
  return readInput(path, 'font');
}

/** The appearance the flags ask for, or undefined for an invisible signature. */
function appearanceOf(values: SignValues, signingTime: Date): SignatureAppearance | undefined {
  if (values.anchor !== undefined)
    throw new UsageError('--anchor is not available yet: place the image with --page and --rect');
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

async function sign(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseSign(args);
  if (values.help) {
    io.out(`${PDF_HELP}\n`);
    return 0;
  }
  if (!values.out) throw new UsageError('kyso pdf sign needs --out OUT.pdf');
  const level = values.level ?? 'B-B';
  if (level === 'B-LT' || level === 'B-LTA')
    throw new UsageError(`--level ${level} is not yet supported; use B-B or B-T`);
  if (level !== 'B-B' && level !== 'B-T') throw new UsageError(`--level must be B-B or B-T, got "${level}"`);
  if (level === 'B-T' && !values.tsa) throw new UsageError('--level B-T needs --tsa URL');
  if (level === 'B-B' && values.tsa) throw new UsageError('--tsa goes with --level B-T');
  const signingTime = new Date();
  const appearance = appearanceOf(values, signingTime);
  const padding = values['rsa-padding'] ?? 'pss';
  if (padding !== 'pss' && padding !== 'pkcs1') throw new UsageError('--rsa-padding must be pss or pkcs1');
  const page = appearance ? undefined : pageOption(values.page);
  if (page === -1)
    throw new UsageError('--page last goes with --image; give an invisible signature a page number');
  const tsa = values.tsa ? httpUrl(values.tsa, '--tsa') : undefined;
  const pdf = readInput(positionals[0], 'PDF');
  const key = await signingKey(values, padding);
  let signed: Uint8Array;
  try {
    const options: SignPdfOptions = {
      signer: key.signer,
      certificate: key.certificate,
      chain: key.chain,
      timestamp: tsa ? tsaCallback(tsa) : undefined,
      fieldName: values.field,
      page,
      appearance,
      signingTime,
      name: values.name,
      reason: values.reason,
      location: values.location,
    };
    signed = await signPdf(pdf, options);
  } finally {
    await key.close();
  }
  writeFileSync(values.out, signed);
  const algorithm: SignatureAlgorithm = key.signer.algorithm;
  if (values.json) printJson(io, { out: values.out, level, algorithm, bytes: signed.length });
  else io.out(`Đã ký / Signed: ${positionals[0]} → ${values.out} (PAdES ${level}, ${algorithm})\n`);
  return 0;
}

// ---------------------------------------------------------------- verifying

async function verify(args: string[], io: Io): Promise<number> {
  // Exit 1 and 2 are verdicts here, so a usage error leaves with 3 and other failures as indeterminate.
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
    },
    { min: 1, max: 1, usage: VERIFY_USAGE },
  );
  if (values.help) {
    io.out(`${PDF_HELP}\n`);
    return 0;
  }
  const lang = values.lang ?? 'vi';
  if (lang !== 'vi' && lang !== 'en') throw new UsageError(`--lang must be vi or en, got "${lang}"`);
  const anchors = [...(values.ca ?? []), ...(values.trust ?? [])].flatMap((f) => {
    const certs = fromPem(Buffer.from(readInput(f, 'CA bundle')).toString('latin1'), 'CERTIFICATE');
    if (!certs.length) throw new UsageError(`${f} holds no PEM certificate`);
    return certs;
  });
  const file = positionals[0];
  const report = await verifyPdf(readInput(file, 'PDF'), { trustAnchors: anchors, certificates: anchors });
  if (values.json) printJson(io, report);
  else io.out(renderReport(file, report, lang));
  return VERIFY_EXIT[report.verdict];
}
