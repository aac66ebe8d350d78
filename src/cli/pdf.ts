import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_PKCS11_MODULE } from '../config.js';
import { KeyError, openKeyBackend, p12Signer, readPkcs12, type Signer } from '../keys/index.js';
import {
  type AppearanceRect,
  type CertificateSummary,
  type SignatureAppearance,
  type SignatureReport,
  type SignPdfOptions,
  signPdf,
  type TimeStampCallback,
  type VerificationReport,
  verifyPdf,
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
const VIETNAM_OFFSET_MS = 7 * 3600_000;
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

type Lang = 'vi' | 'en';

// Short phrases for the engine's reason codes; a code missing here prints in English from its name.
const REASONS: Record<string, { vi: string; en: string }> = {
  'byte-range-malformed': { vi: 'ByteRange sai cấu trúc', en: 'malformed ByteRange' },
  'byte-range-outside-file': { vi: 'ByteRange vượt ra ngoài tệp', en: 'ByteRange outside the file' },
  'byte-range-gap-not-contents': {
    vi: 'khoảng trống của ByteRange không phải /Contents',
    en: 'ByteRange gap is not the /Contents',
  },
  'byte-range-not-at-revision-end': {
    vi: 'ByteRange không kết thúc ở cuối một phiên bản',
    en: 'ByteRange does not end at a revision',
  },
  'contents-missing': { vi: 'thiếu /Contents', en: '/Contents missing' },
  'contents-not-hex': { vi: '/Contents không phải chuỗi hex', en: '/Contents is not a hex string' },
  'contents-trailing-bytes': { vi: '/Contents có dữ liệu thừa', en: 'trailing bytes in /Contents' },
  'signature-dictionary-not-indirect': {
    vi: 'từ điển chữ ký không là đối tượng gián tiếp',
    en: 'signature dictionary not indirect',
  },
  'signature-dictionary-compressed': {
    vi: 'từ điển chữ ký nằm trong luồng đối tượng',
    en: 'signature dictionary in an object stream',
  },
  'signature-dictionary-not-signed': {
    vi: 'từ điển chữ ký nằm ngoài phần được ký',
    en: 'signature dictionary not covered by the signature',
  },
  'cms-malformed': { vi: 'dữ liệu CMS sai cấu trúc', en: 'malformed CMS' },
  'cms-not-detached': { vi: 'CMS không ở dạng tách rời', en: 'CMS not detached' },
  'cms-signer-count': { vi: 'CMS không có đúng một người ký', en: 'CMS does not have exactly one signer' },
  'digest-mismatch': {
    vi: 'tài liệu đã bị thay đổi sau khi ký (sai giá trị băm)',
    en: 'document changed after signing (digest mismatch)',
  },
  'signature-invalid': { vi: 'chữ ký số không đúng', en: 'signature value does not verify' },
  'certificate-key-usage': {
    vi: 'chứng thư số không được dùng để ký',
    en: 'certificate key usage does not allow signing',
  },
  'certificate-not-valid-at-signing-time': {
    vi: 'chứng thư số không có hiệu lực tại thời điểm ký',
    en: 'certificate not valid at signing time',
  },
  'timestamp-invalid': { vi: 'dấu thời gian không hợp lệ', en: 'invalid time-stamp' },
  'signature-unreadable': { vi: 'không đọc được chữ ký', en: 'signature unreadable' },
  'unsupported-sub-filter': { vi: 'định dạng chữ ký (SubFilter) chưa hỗ trợ', en: 'unsupported SubFilter' },
  'unsupported-digest-algorithm': { vi: 'thuật toán băm chưa hỗ trợ', en: 'unsupported digest algorithm' },
  'unsupported-cms': { vi: 'cấu trúc CMS chưa hỗ trợ', en: 'unsupported CMS' },
  'certificate-expired-no-poe': {
    vi: 'chứng thư số đã hết hạn và không có dấu thời gian chứng minh thời điểm ký',
    en: 'certificate expired and no proof of signing time',
  },
  'certificate-not-yet-valid': { vi: 'chứng thư số chưa có hiệu lực', en: 'certificate not yet valid' },
  'chain-not-checked': {
    vi: 'chưa kiểm tra chuỗi chứng thư (không có chứng thư gốc tin cậy, dùng --ca)',
    en: 'chain not checked (no trust anchors, use --ca)',
  },
  'chain-untrusted': { vi: 'chuỗi chứng thư không dẫn tới gốc tin cậy', en: 'chain not trusted' },
  'timestamp-chain-not-checked': {
    vi: 'chưa kiểm tra chuỗi chứng thư của dấu thời gian',
    en: 'time-stamp chain not checked',
  },
  'timestamp-chain-untrusted': {
    vi: 'chuỗi chứng thư của dấu thời gian không tin cậy',
    en: 'time-stamp chain not trusted',
  },
  'revocation-not-checked': {
    vi: 'chưa kiểm tra tình trạng thu hồi chứng thư số',
    en: 'revocation status not checked',
  },
  'changes-after-signing-not-checked': {
    vi: 'chưa kiểm tra các thay đổi sau khi ký',
    en: 'changes after signing not checked',
  },
  'pades-signing-time-attribute': {
    vi: 'CMS có thuộc tính signing-time (không đúng PAdES)',
    en: 'CMS has a signing-time attribute (not PAdES)',
  },
  'pades-no-signing-certificate-v2': {
    vi: 'CMS thiếu signingCertificateV2',
    en: 'CMS has no signingCertificateV2',
  },
  'not-pades-sub-filter': { vi: 'không phải chữ ký PAdES', en: 'not a PAdES SubFilter' },
  'claimed-time-outside-certificate-validity': {
    vi: 'thời điểm khai báo nằm ngoài thời hạn chứng thư số',
    en: 'claimed time outside the certificate validity',
  },
  unreadable: { vi: 'không đọc được tệp PDF', en: 'the PDF cannot be read' },
  'no-signatures': { vi: 'tệp không có chữ ký số', en: 'the file has no signatures' },
};

const LABELS = {
  vi: {
    file: 'Tệp',
    signatures: 'Số chữ ký',
    overall: 'Kết luận chung',
    signature: 'Chữ ký',
    timestamp: 'Dấu thời gian tài liệu',
    field: 'trường',
    signer: 'Người ký',
    unit: 'Đơn vị quản lý',
    issuer: 'Tổ chức cấp',
    time: 'Thời điểm ký',
    proven: 'theo dấu thời gian',
    claimed: 'do người ký khai báo, chưa được chứng minh',
    noTime: 'không rõ',
    tsa: 'Đơn vị cấp dấu thời gian',
    integrity: 'Tính toàn vẹn',
    intact: 'toàn vẹn',
    broken: 'không toàn vẹn',
    unchecked: 'chưa kiểm tra được',
    validAt: 'Hiệu lực tại thời điểm ký',
    yes: 'còn hiệu lực',
    no: 'không có hiệu lực',
    unknown: 'chưa xác định',
    atCheck: 'xét tại thời điểm kiểm tra, vì không có dấu thời gian',
    period: 'Thời hạn chứng thư số',
    from: 'từ',
    to: 'đến',
    coverage: 'Phạm vi ký',
    whole: 'toàn bộ tệp',
    partial: (n: number) => `một phần tệp (${n} lần cập nhật sau chữ ký)`,
    verdict: 'Kết luận',
    reasons: 'Lý do',
    notes: 'Ghi chú',
    reason: 'Lý do ký',
    location: 'Nơi ký',
    verdicts: { valid: 'hợp lệ', invalid: 'không hợp lệ', indeterminate: 'chưa xác định' },
  },
  en: {
    file: 'File',
    signatures: 'Signatures',
    overall: 'Overall verdict',
    signature: 'Signature',
    timestamp: 'Document time-stamp',
    field: 'field',
    signer: 'Signer',
    unit: 'Managing unit',
    issuer: 'Issuer',
    time: 'Signing time',
    proven: 'from the time-stamp',
    claimed: "the signer's claim, not proven",
    noTime: 'unknown',
    tsa: 'Time-stamp authority',
    integrity: 'Integrity',
    intact: 'intact',
    broken: 'broken',
    unchecked: 'could not be checked',
    validAt: 'Valid at signing time',
    yes: 'yes',
    no: 'no',
    unknown: 'unknown',
    atCheck: 'judged at the time of checking: no time-stamp',
    period: 'Certificate validity',
    from: 'from',
    to: 'to',
    coverage: 'Coverage',
    whole: 'the whole file',
    partial: (n: number) => `part of the file (${n} update(s) after the signature)`,
    verdict: 'Verdict',
    reasons: 'Reasons',
    notes: 'Notes',
    reason: 'Reason',
    location: 'Location',
    verdicts: { valid: 'valid', invalid: 'invalid', indeterminate: 'indeterminate' },
  },
} as const;

function phrase(code: string, lang: Lang): string {
  return REASONS[code]?.[lang] ?? code.replaceAll('-', ' ');
}

/** A time in Vietnam time (UTC+7, no daylight saving), ISO 8601. */
function vietnamTime(date: Date): string {
  return new Date(date.getTime() + VIETNAM_OFFSET_MS).toISOString().replace(/\.\d{3}Z$/, '+07:00');
}

function attributes(cert: CertificateSummary, type: string): string[] {
  return cert.subjectAttributes.filter((a) => a.type === type).map((a) => a.value);
}

function renderSignature(sig: SignatureReport, index: number, lang: Lang): string[] {
  const L = LABELS[lang];
  const lines = [
    `${sig.kind === 'signature' ? L.signature : L.timestamp} ${index + 1} (${L.field} ${sig.field})`,
  ];
  const row = (label: string, value: string) => lines.push(`  ${label}: ${value}`);
  const cert = sig.kind === 'signature' ? sig.signer : sig.timestamp?.tsa;
  if (cert) {
    const cn = attributes(cert, 'CN').join(', ');
    row(sig.kind === 'signature' ? L.signer : L.tsa, cn || cert.subject);
    const unit = [...attributes(cert, 'OU'), ...attributes(cert, 'O')].join(', ');
    if (unit) row(L.unit, unit);
    row(L.issuer, cert.issuer);
  }
  if (sig.signingTime) row(L.time, `${vietnamTime(sig.signingTime)} (${L.proven})`);
  else if (sig.claimedSigningTime) row(L.time, `${vietnamTime(sig.claimedSigningTime)} (${L.claimed})`);
  else row(L.time, L.noTime);
  if (sig.kind === 'signature' && sig.timestamp?.tsa)
    row(L.tsa, attributes(sig.timestamp.tsa, 'CN').join(', ') || sig.timestamp.tsa.subject);
  const checks = Object.values(sig.integrity);
  row(
    L.integrity,
    checks.includes('failed') ? L.broken : checks.every((c) => c === 'passed') ? L.intact : L.unchecked,
  );
  if (sig.validAtSigningTime === undefined) row(L.validAt, L.unknown);
  else {
    // Without a proven time the engine can only judge at the time of checking.
    const when = sig.signingTime ? '' : ` (${L.atCheck})`;
    row(L.validAt, `${sig.validAtSigningTime ? L.yes : L.no}${when}`);
  }
  if (cert) row(L.period, `${L.from} ${vietnamTime(cert.notBefore)} ${L.to} ${vietnamTime(cert.notAfter)}`);
  row(L.coverage, sig.coversWholeFile ? L.whole : L.partial(sig.modifications.revisionsAfter));
  if (sig.reason) row(L.reason, sig.reason);
  if (sig.location) row(L.location, sig.location);
  row(L.verdict, L.verdicts[sig.verdict]);
  if (sig.reasons.length) {
    lines.push(`  ${L.reasons}:`);
    for (const r of sig.reasons) lines.push(`    - ${phrase(r, lang)}`);
  }
  if (sig.warnings.length) {
    lines.push(`  ${L.notes}:`);
    for (const w of sig.warnings) lines.push(`    - ${phrase(w, lang)}`);
  }
  return lines;
}

/** The report as text, in Vietnamese or English: what TT 15/2025 asks a verifier to show. */
function renderReport(file: string, report: VerificationReport, lang: Lang): string {
  const L = LABELS[lang];
  const lines = [`${L.file}: ${file}`, `${L.signatures}: ${report.signatures.length}`];
  report.signatures.forEach((sig, i) => {
    lines.push('', ...renderSignature(sig, i, lang));
  });
  lines.push('', `${L.overall}: ${L.verdicts[report.verdict]}`);
  for (const r of report.reasons) lines.push(`  - ${phrase(r, lang)}`);
  if (report.error) lines.push(`  ${report.error.message}`);
  return `${lines.join('\n')}\n`;
}

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
