// The command line's words for what went wrong, in Vietnamese and English, keyed by the error's code.
// Domain errors keep their own (English) detail; the catalogue gives the sentence a person reads first.

/** The languages the command line speaks. */
export type Lang = 'vi' | 'en';

export const LANGS: readonly Lang[] = ['vi', 'en'];

/**
 * The language of a command line: `--lang`, else the POSIX locale (LC_ALL, LC_MESSAGES, LANG).
 * Vietnamese for `vi_*` and also when no locale is set (or it is C/POSIX): Kyso is Vietnamese first.
 * Any other locale gets English.
 */
export function languageOf(argv: string[], env: NodeJS.ProcessEnv): Lang {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    const value = argv[i] === '--lang' ? argv[i + 1] : argv[i].startsWith('--lang=') ? argv[i].slice(7) : '';
    if (value === 'vi' || value === 'en') return value;
  }
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  if (locale === '' || locale === 'C' || locale === 'POSIX' || /^(C|POSIX)[.@]/.test(locale)) return 'vi';
  return /^vi([_.@]|$)/i.test(locale) ? 'vi' : 'en';
}

let current: Lang | undefined;

/** Fixes the language for the rest of this process (main does it once per command line). */
export function useLanguage(lang: Lang): void {
  current = lang;
}

/** The language chosen for this process, or the environment's. */
export function language(): Lang {
  return current ?? languageOf([], process.env);
}

type Entry = Record<Lang, string>;

// Exact codes first; PkiError and PdfError codes not listed fall back by their prefix (see headline).
const CATALOGUE: Record<string, Entry> = {
  usage: { vi: 'Lệnh gọi chưa đúng', en: 'The command line is not right' },
  internal: { vi: 'Lỗi nội bộ của Kyso', en: 'Kyso internal error' },
  'output-not-written': {
    vi: 'Đã lưu vào cơ sở dữ liệu nhưng không ghi được tệp kết quả',
    en: 'Stored in the database, but the output file could not be written',
  },
  // Operating-system errors (errno).
  ENOENT: { vi: 'Không tìm thấy tệp hoặc thư mục', en: 'No such file or directory' },
  EACCES: { vi: 'Không có quyền truy cập', en: 'Permission denied' },
  EPERM: { vi: 'Thao tác không được phép', en: 'Operation not permitted' },
  EISDIR: { vi: 'Đây là thư mục, không phải tệp', en: 'This is a directory, not a file' },
  ENOTDIR: { vi: 'Một phần của đường dẫn không phải thư mục', en: 'A part of the path is not a directory' },
  ENOSPC: { vi: 'Hết chỗ trống trên đĩa', en: 'No space left on the device' },
  EDQUOT: { vi: 'Vượt hạn mức dung lượng đĩa', en: 'Disk quota exceeded' },
  EROFS: { vi: 'Hệ thống tệp chỉ cho phép đọc', en: 'The file system is read-only' },
  EEXIST: { vi: 'Tệp đã tồn tại', en: 'The file already exists' },
  EIO: { vi: 'Lỗi vào/ra của thiết bị lưu trữ', en: 'Input/output error on the storage device' },
  EMFILE: { vi: 'Mở quá nhiều tệp cùng lúc', en: 'Too many open files' },
  ECONNREFUSED: { vi: 'Máy chủ từ chối kết nối', en: 'The server refused the connection' },
  // The database (StoreError).
  unavailable: { vi: 'Không kết nối được cơ sở dữ liệu', en: 'The database cannot be reached' },
  locked: {
    vi: 'Cơ sở dữ liệu đang bị khóa bởi tiến trình khác',
    en: 'Another process holds the database lock',
  },
  conflict: { vi: 'Dữ liệu xung đột với bản ghi đã có', en: 'The change conflicts with a stored record' },
  'not-found': { vi: 'Không tìm thấy bản ghi', en: 'No such record' },
  'migration-failed': { vi: 'Không nâng cấp được cơ sở dữ liệu', en: 'The database could not be upgraded' },
  'not-initialized': { vi: 'Thư mục dữ liệu chưa có CA', en: 'The data directory holds no CA' },
  // The CA (CaError).
  'already-initialized': { vi: 'Thư mục dữ liệu đã có CA', en: 'The data directory already holds a CA' },
  'unknown-ca': { vi: 'Không có CA này', en: 'No such CA' },
  'unknown-profile': { vi: 'Không có hồ sơ chứng thư này', en: 'No such certificate profile' },
  'unknown-certificate': { vi: 'Không tìm thấy chứng thư số', en: 'No such certificate' },
  'key-not-allowed': {
    vi: 'Khóa không được hồ sơ này chấp nhận',
    en: 'The profile does not accept this key',
  },
  'bad-subject': { vi: 'Tên chủ thể không hợp lệ', en: 'The subject name is not valid' },
  'bad-validity': { vi: 'Thời hạn không hợp lệ', en: 'The validity is not acceptable' },
  'illegal-transition': {
    vi: 'Trạng thái chứng thư không cho phép thao tác này',
    en: "The certificate's status does not allow this",
  },
  'reason-not-allowed': { vi: 'Lý do thu hồi không được phép', en: 'This revocation reason is not allowed' },
  expired: { vi: 'Chứng thư số đã hết hạn', en: 'The certificate has expired' },
  'bad-config': { vi: 'Cấu hình không hợp lệ', en: 'The configuration is not valid' },
  // Keys, tokens and HSMs (KeyError).
  'wrong-pin': { vi: 'Mã PIN không đúng', en: 'The PIN is incorrect' },
  'pin-locked': { vi: 'Mã PIN đã bị khóa', en: 'The PIN is locked' },
  'wrong-passphrase': { vi: 'Mật khẩu khóa không đúng', en: 'The key passphrase is wrong' },
  'token-not-found': { vi: 'Không tìm thấy thiết bị ký (token/HSM)', en: 'The token or HSM was not found' },
  'key-not-found': { vi: 'Không tìm thấy khóa', en: 'The key was not found' },
  'key-exists': { vi: 'Khóa đã tồn tại', en: 'The key already exists' },
  'algorithm-mismatch': { vi: 'Thuật toán không khớp với khóa', en: 'The algorithm does not match the key' },
  'invalid-input': { vi: 'Giá trị nhập không hợp lệ', en: 'The input is not valid' },
  'device-error': { vi: 'Thiết bị ký báo lỗi', en: 'The signing device failed' },
  // Services asked over the network (ClientError).
  network: { vi: 'Không kết nối được máy chủ', en: 'The server cannot be reached' },
  timeout: { vi: 'Máy chủ không trả lời kịp', en: 'The server did not answer in time' },
  'http-status': { vi: 'Máy chủ trả lời lỗi', en: 'The server answered with an error' },
  'too-large': { vi: 'Dữ liệu quá lớn', en: 'The data is too large' },
  'ts-invalid': { vi: 'Dấu thời gian không hợp lệ', en: 'The time-stamp is not valid' },
  // PKI and PDF codes that need their own words.
  'control-characters': { vi: 'Tên chứa ký tự điều khiển', en: 'The name holds control characters' },
  'anchor-not-found': {
    vi: 'Không tìm thấy dòng chữ neo trong tài liệu',
    en: 'The anchor text is not in the document',
  },
  encrypted: { vi: 'Tệp PDF đã được mã hóa', en: 'The PDF is encrypted' },
  'certificate-key-mismatch': {
    vi: 'Chứng thư số không khớp với khóa',
    en: 'The certificate does not match the key',
  },
};

// Families of codes, by prefix, for the many fine-grained PKI and PDF codes.
const PREFIXES: [string, Entry][] = [
  ['malformed-', { vi: 'Dữ liệu sai định dạng', en: 'The data is malformed' }],
  ['bad-', { vi: 'Dữ liệu không hợp lệ', en: 'The data is not valid' }],
  ['unsupported', { vi: 'Kyso không hỗ trợ', en: 'Kyso does not support this' }],
  ['ocsp-', { vi: 'Không kiểm tra được trạng thái qua OCSP', en: 'The OCSP check failed' }],
  ['ts-', { vi: 'Dấu thời gian không dùng được', en: 'The time-stamp cannot be used' }],
];

const FALLBACK: Entry = { vi: 'Không thực hiện được', en: 'The command failed' };

/** The sentence for an error code in a language. */
export function headline(code: string, lang: Lang): string {
  const entry = Object.hasOwn(CATALOGUE, code)
    ? CATALOGUE[code]
    : PREFIXES.find(([p]) => code.startsWith(p))?.[1];
  return (entry ?? FALLBACK)[lang];
}

/** Short phrases the command line prints around messages. */
export const PHRASES = {
  seeHelp: { vi: 'Xem', en: 'See' },
  debug: { vi: 'đặt KYSO_DEBUG=1 để xem chi tiết', en: 'set KYSO_DEBUG=1 for details' },
} as const satisfies Record<string, Entry>;
