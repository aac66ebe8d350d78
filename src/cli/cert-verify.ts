import { fromPem, type PathValidationCode, type PathValidationResult, validatePath } from '../pki/index.js';
import { parseArgs } from './args.js';
import { describeError, UsageError } from './errors.js';
import { certificateFile, readInput } from './ocsp.js';
import { type Io, printJson } from './output.js';
import { VERIFY_EXIT, VERIFY_USAGE_EXIT } from './pdf-help.js';

// `kyso cert verify`: RFC 5280 path validation of one certificate against the roots and CRLs given, with
// no data directory and no network. The exit status is the verdict, as for `kyso pdf verify`.

export const CERT_VERIFY_USAGE =
  'kyso cert verify CERT --ca ROOTS.pem [--untrusted FILE]... [--crl FILE]... [--at TIME] [--policy OID]... [--explicit-policy] [--inhibit-mapping] [--inhibit-any] [--allow-sha1] [--json] [--lang vi|en]';

export const CERT_VERIFY_HELP = `${CERT_VERIFY_USAGE}
  validates CERT (PEM or DER) along a path to a root in --ca, built from the --untrusted certificates
  (PEM files may hold several): signatures, validity at --at (ISO 8601, default now), names, basic
  constraints, key usage, name constraints and certificate policies (--policy sets the acceptable ones;
  --explicit-policy, --inhibit-mapping, --inhibit-any are RFC 5280's initial inputs). With --crl, every
  certificate of the path is checked against those CRLs (complete, delta or indirect). --allow-sha1
  accepts SHA-1 signatures. Exit status: 0 valid, 1 invalid, 2 indeterminate (e.g. no CRL tells the
  revocation status), 3 usage error.`;

const MESSAGES_VI: Record<PathValidationCode, string> = {
  ok: 'hợp lệ',
  'malformed-certificate': 'không đọc được chứng thư số',
  'bad-extension': 'một phần mở rộng của chứng thư số bị lỗi',
  'no-path': 'không xây dựng được đường dẫn chứng thực đến chứng thư gốc tin cậy',
  'bad-signature': 'chữ ký trên một chứng thư số của đường dẫn không đúng',
  'weak-algorithm': 'chữ ký dùng SHA-1, thuật toán không còn được chấp nhận',
  expired: 'một chứng thư số của đường dẫn đã hết hạn tại thời điểm kiểm tra',
  'not-yet-valid': 'một chứng thư số của đường dẫn chưa có hiệu lực tại thời điểm kiểm tra',
  'name-chaining': 'tên tổ chức cấp không khớp với chứng thư số cấp trên',
  'not-a-ca': 'một chứng thư số trung gian không phải là của tổ chức cung cấp dịch vụ chứng thực (CA)',
  'path-length': 'đường dẫn vượt quá giới hạn độ dài (pathLenConstraint)',
  'key-usage': 'mục đích sử dụng khóa (keyUsage) không cho phép',
  'name-constraints': 'tên nằm ngoài phạm vi ràng buộc tên (nameConstraints)',
  policy: 'không có chính sách chứng thư số nào được chấp nhận cho đường dẫn',
  'policy-mapping': 'ánh xạ chính sách không hợp lệ (anyPolicy)',
  'unknown-critical-extension': 'chứng thư số có phần mở rộng bắt buộc (critical) không xử lý được',
  revoked: 'chứng thư số đã bị thu hồi',
  'on-hold': 'chứng thư số đang bị tạm dừng (certificateHold)',
  'revocation-unknown': 'không xác định được tình trạng thu hồi từ các CRL đã cho',
};

const STATUS = {
  vi: { valid: 'hợp lệ', invalid: 'không hợp lệ', indeterminate: 'không xác định' },
  en: { valid: 'valid', invalid: 'invalid', indeterminate: 'indeterminate' },
} as const;

/** One line saying the verdict, in Vietnamese or English. */
export function describeResult(result: PathValidationResult, lang: 'vi' | 'en'): string {
  const status = STATUS[lang][result.status];
  if (lang === 'en') return `${status}: ${result.reason}`;
  if (result.status === 'valid')
    return `${status}: đường dẫn chứng thực gồm ${result.path.length} chứng thư số đến chứng thư gốc tin cậy`;
  return `${status}: ${MESSAGES_VI[result.code]} [${result.code}]`;
}

/** The CRLs in a file: every PEM "X509 CRL" block, or the bytes as one DER CRL. */
function crlFile(file: string): Uint8Array[] {
  const bytes = readInput(file, 'CRL');
  const text = Buffer.from(bytes).toString('latin1');
  if (!text.includes('-----BEGIN ')) return [bytes];
  try {
    return fromPem(text, 'X509 CRL');
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
}

const DOTTED = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function timeOption(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const t = Date.parse(value);
  if (!ISO_8601.test(value) || Number.isNaN(t))
    throw new UsageError(`--at must be an ISO 8601 time such as 2020-01-01T00:00:00Z, got "${value}"`);
  return new Date(t);
}

/** `kyso cert verify CERT`: exits with the verdict (0, 1, 2), or 3 for a usage error. */
export async function certVerify(args: string[], io: Io): Promise<number> {
  try {
    return await run(args, io);
  } catch (e) {
    const { line } = describeError(e);
    io.err(`kyso: ${line}\n`);
    return e instanceof UsageError ? VERIFY_USAGE_EXIT : VERIFY_EXIT.indeterminate;
  }
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    {
      ca: { type: 'string', multiple: true },
      untrusted: { type: 'string', multiple: true },
      crl: { type: 'string', multiple: true },
      at: { type: 'string' },
      policy: { type: 'string', multiple: true },
      'explicit-policy': { type: 'boolean' },
      'inhibit-mapping': { type: 'boolean' },
      'inhibit-any': { type: 'boolean' },
      'allow-sha1': { type: 'boolean' },
      lang: { type: 'string' },
    },
    { min: 1, max: 1, usage: CERT_VERIFY_USAGE },
  );
  const lang = values.lang ?? 'vi';
  if (lang !== 'vi' && lang !== 'en') throw new UsageError(`--lang must be vi or en, got "${lang}"`);
  if (!values.ca?.length) throw new UsageError('kyso cert verify needs --ca ROOTS.pem');
  for (const p of values.policy ?? [])
    if (!DOTTED.test(p)) throw new UsageError(`--policy must be a dotted OID, got "${p}"`);
  const [target, ...others] = certificateFile(positionals[0], 'certificate');
  const crls = (values.crl ?? []).flatMap(crlFile);
  const result = await validatePath({
    target,
    anchors: values.ca.flatMap((f) => certificateFile(f, 'CA bundle')),
    intermediates: [
      ...others,
      ...(values.untrusted ?? []).flatMap((f) => certificateFile(f, 'certificates')),
    ],
    at: timeOption(values.at),
    crls,
    checkRevocation: values.crl !== undefined,
    initialPolicies: values.policy,
    explicitPolicy: values['explicit-policy'],
    inhibitPolicyMapping: values['inhibit-mapping'],
    inhibitAnyPolicy: values['inhibit-any'],
    allowSha1: values['allow-sha1'],
  });
  if (values.json) printJson(io, result);
  else io.out(`${describeResult(result, lang)}\n`);
  return VERIFY_EXIT[result.status];
}
