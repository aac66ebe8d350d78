import type { CertificateSummary, SignatureReport, VerificationReport } from './report.js';

// The verification report as text, in Vietnamese (default) or English: what TT 15/2025 asks a verifier to
// show. The CLI prints it and the PDF report (--report) lays out the same lines.

const VIETNAM_OFFSET_MS = 7 * 3600_000;

/** The languages reports speak. */
export type Lang = 'vi' | 'en';

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

/** A reason or warning code as a short phrase. */
export function phrase(code: string, lang: Lang): string {
  return REASONS[code]?.[lang] ?? code.replaceAll('-', ' ');
}

/** A time in Vietnam time (UTC+7, no daylight saving), ISO 8601. */
export function vietnamTime(date: Date): string {
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

/** The report as text lines. */
export function renderReport(file: string, report: VerificationReport, lang: Lang): string {
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
