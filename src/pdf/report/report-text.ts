import type { ChangeKind } from '../changes/index.js';
import type {
  CertificateSummary,
  RevocationReport,
  SignatureReport,
  Verdict,
  VerificationReport,
} from './report.js';

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
  'revocation-unknown': {
    vi: 'không xác định được tình trạng thu hồi chứng thư số',
    en: 'the revocation status cannot be determined',
  },
  'certificate-revoked': {
    vi: 'chứng thư số đã bị thu hồi trước thời điểm ký được chứng minh',
    en: 'certificate revoked before the proven signing time',
  },
  'certificate-on-hold': {
    vi: 'chứng thư số đang bị tạm dừng',
    en: 'certificate on hold',
  },
  'timestamp-certificate-revoked': {
    vi: 'chứng thư số của đơn vị cấp dấu thời gian đã bị thu hồi',
    en: 'the time-stamping unit certificate is revoked',
  },
  'timestamp-revocation-unknown': {
    vi: 'không xác định được tình trạng thu hồi chứng thư của đơn vị cấp dấu thời gian',
    en: 'the revocation status of the time-stamping unit cannot be determined',
  },
  'revoked-after-signing': {
    vi: 'chứng thư số bị thu hồi sau thời điểm ký (chữ ký vẫn hợp lệ)',
    en: 'certificate revoked after the signing time (the signature stands)',
  },
  'changes-not-allowed': {
    vi: 'tài liệu có thay đổi không được phép sau khi ký',
    en: 'the document was changed after signing in a way that is not allowed',
  },
  'changes-unreadable': {
    vi: 'không đọc được các thay đổi sau khi ký',
    en: 'the changes after signing cannot be read',
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
  'references-undefined-objects': {
    vi: 'phiên bản đã ký tham chiếu tới đối tượng không được định nghĩa (một bản cập nhật sau có thể điền vào)',
    en: 'the signed revision names objects it does not define (a later update could fill them in)',
  },
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
    serial: 'Số hiệu chứng thư số',
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
    revocation: 'Tình trạng thu hồi',
    revocationStatus: {
      good: 'chưa bị thu hồi',
      revoked: 'đã bị thu hồi',
      'on-hold': 'đang bị tạm dừng',
      unknown: 'không xác định được',
      'not-checked': 'chưa kiểm tra',
    },
    revocationSource: {
      dss: (kind: string) => `theo ${kind} nhúng trong tài liệu`,
      cms: (kind: string) => `theo ${kind} nhúng trong chữ ký`,
      online: (kind: string) => `theo ${kind} trực tuyến`,
    },
    producedAt: 'lập lúc',
    from: 'từ',
    to: 'đến',
    coverage: 'Phạm vi ký',
    whole: 'toàn bộ tệp',
    partial: (n: number) => `một phần tệp (${n} lần cập nhật sau chữ ký)`,
    changes: 'Các thay đổi sau khi ký',
    changeStatus: {
      allowed: 'chỉ có thay đổi được phép',
      disallowed: 'có thay đổi không được phép',
      unreadable: 'không đọc được',
    },
    certification: 'Chứng nhận tài liệu (DocMDP)',
    levels: {
      1: 'P1: không cho phép thay đổi',
      2: 'P2: cho phép điền biểu mẫu và ký',
      3: 'P3: cho phép điền biểu mẫu, ký và chú thích',
    },
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
    serial: 'Certificate serial number',
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
    revocation: 'Revocation status',
    revocationStatus: {
      good: 'not revoked',
      revoked: 'revoked',
      'on-hold': 'on hold',
      unknown: 'cannot be determined',
      'not-checked': 'not checked',
    },
    revocationSource: {
      dss: (kind: string) => `from the ${kind} embedded in the document`,
      cms: (kind: string) => `from the ${kind} embedded in the signature`,
      online: (kind: string) => `from the ${kind} online`,
    },
    producedAt: 'produced at',
    from: 'from',
    to: 'to',
    coverage: 'Coverage',
    whole: 'the whole file',
    partial: (n: number) => `part of the file (${n} update(s) after the signature)`,
    changes: 'Changes after signing',
    changeStatus: {
      allowed: 'only allowed ones',
      disallowed: 'changes that are not allowed',
      unreadable: 'cannot be read',
    },
    certification: 'Certification (DocMDP)',
    levels: {
      1: 'P1: no changes allowed',
      2: 'P2: form filling and signing allowed',
      3: 'P3: form filling, signing and comments allowed',
    },
    verdict: 'Verdict',
    reasons: 'Reasons',
    notes: 'Notes',
    reason: 'Reason',
    location: 'Location',
    verdicts: { valid: 'valid', invalid: 'invalid', indeterminate: 'indeterminate' },
  },
} as const;

/** What an allowed change after a signature did, by kind. */
const CHANGE_KINDS: Partial<Record<ChangeKind, { vi: string; en: string }>> = {
  'signature-added': { vi: 'thêm chữ ký', en: 'signatures added' },
  'signature-filled': { vi: 'ký vào trường chữ ký có sẵn', en: 'existing signature fields signed' },
  'signature-field-added': { vi: 'thêm trường chữ ký', en: 'signature fields added' },
  'document-timestamp': { vi: 'thêm dấu thời gian tài liệu', en: 'document time-stamps added' },
  dss: { vi: 'thêm dữ liệu kiểm tra (DSS)', en: 'validation data (DSS) added' },
  extensions: { vi: 'khai báo phần mở rộng PDF', en: 'PDF extensions declared' },
  metadata: { vi: 'cập nhật siêu dữ liệu', en: 'metadata updated' },
  'form-fill': { vi: 'điền biểu mẫu', en: 'form fields filled' },
  annotation: { vi: 'thêm ghi chú', en: 'comments added' },
};

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

/** One row of a signature's block: a labelled value, or a labelled list (reasons, notes). */
export type ReportRow =
  | { label: string; value: string; verdict?: Verdict }
  | { label: string; items: string[] };

/** A signature's block as both renderers lay it out: a heading, then rows in the order shown. */
export interface SignatureBlock {
  heading: string;
  verdict: Verdict;
  rows: ReportRow[];
}

/** The whole report as structured rows, shared by the text and the PDF renderers. */
export interface ReportContent {
  /** The document rows above the signatures: file, number of signatures. */
  rows: ReportRow[];
  signatures: SignatureBlock[];
  overall: { label: string; verdict: Verdict; value: string; reasons: string[]; error?: string };
}

/**
 * The revocation row: the path's status, where the signer's own status came from and when that answer
 * was produced (its thisUpdate) — an embedded answer may be years old.
 */
function revocationText(r: RevocationReport, lang: Lang): string {
  const L = LABELS[lang];
  const status = L.revocationStatus[r.status];
  const leaf = r.certificates?.[0];
  if (!r.source || !leaf?.kind) return status;
  const when = leaf.thisUpdate ? `, ${L.producedAt} ${vietnamTime(leaf.thisUpdate)}` : '';
  return `${status} (${L.revocationSource[r.source](leaf.kind.toUpperCase())}${when})`;
}

function signatureBlock(sig: SignatureReport, index: number, lang: Lang): SignatureBlock {
  const L = LABELS[lang];
  const heading = `${sig.kind === 'signature' ? L.signature : L.timestamp} ${index + 1} (${L.field} ${sig.field})`;
  const rows: ReportRow[] = [];
  const row = (label: string, value: string, verdict?: Verdict) =>
    rows.push(verdict ? { label, value, verdict } : { label, value });
  const list = (label: string, items: string[]) => items.length && rows.push({ label, items });
  // The certificate the CMS names, even when its signature or the document's digest failed.
  const cert = sig.kind === 'signature' ? sig.signer : (sig.timestamp?.tsa ?? sig.signer);
  if (cert) {
    const cn = attributes(cert, 'CN').join(', ');
    row(sig.kind === 'signature' ? L.signer : L.tsa, cn || cert.subject);
    const unit = [...attributes(cert, 'OU'), ...attributes(cert, 'O')].join(', ');
    if (unit) row(L.unit, unit);
    row(L.issuer, cert.issuer);
    row(L.serial, cert.serialHex.toUpperCase());
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
  row(L.revocation, revocationText(sig.revocation, lang));
  row(L.coverage, sig.coversWholeFile ? L.whole : L.partial(sig.modifications.revisionsAfter));
  const changes = sig.modifications.status;
  if (changes === 'allowed') {
    // Say which: what was added after a signature is part of what a reader should know.
    const kinds = [...new Set((sig.modifications.changes ?? []).map((c) => CHANGE_KINDS[c.kind]?.[lang]))];
    const which = kinds.filter((k) => k !== undefined).join(', ');
    row(L.changes, which ? `${L.changeStatus.allowed}: ${which}` : L.changeStatus.allowed);
  } else if (changes === 'disallowed' || changes === 'unreadable') row(L.changes, L.changeStatus[changes]);
  if (sig.certification) row(L.certification, L.levels[sig.certification.level]);
  if (sig.reason) row(L.reason, sig.reason);
  if (sig.location) row(L.location, sig.location);
  row(L.verdict, L.verdicts[sig.verdict], sig.verdict);
  const phrases = (codes: readonly string[]) => codes.map((code) => phrase(code, lang));
  list(L.reasons, phrases(sig.reasons));
  list(L.notes, phrases(sig.warnings));
  return { heading, verdict: sig.verdict, rows };
}

/** The report as structured rows, for a renderer to lay out. */
export function reportContent(file: string, report: VerificationReport, lang: Lang): ReportContent {
  const L = LABELS[lang];
  return {
    rows: [
      { label: L.file, value: file },
      { label: L.signatures, value: String(report.signatures.length) },
    ],
    signatures: report.signatures.map((sig, i) => signatureBlock(sig, i, lang)),
    overall: {
      label: L.overall,
      verdict: report.verdict,
      value: L.verdicts[report.verdict],
      reasons: report.reasons.map((r) => phrase(r, lang)),
      ...(report.error ? { error: report.error.message } : {}),
    },
  };
}

function rowLines(row: ReportRow, indent: string): string[] {
  if ('items' in row) return [`${indent}${row.label}:`, ...row.items.map((item) => `${indent}  - ${item}`)];
  return [`${indent}${row.label}: ${row.value}`];
}

/** The report as text lines. */
export function renderReport(file: string, report: VerificationReport, lang: Lang): string {
  const content = reportContent(file, report, lang);
  const lines = content.rows.flatMap((row) => rowLines(row, ''));
  for (const block of content.signatures) {
    lines.push('', block.heading, ...block.rows.flatMap((row) => rowLines(row, '  ')));
  }
  const { overall } = content;
  lines.push('', `${overall.label}: ${overall.value}`);
  for (const r of overall.reasons) lines.push(`  - ${r}`);
  if (overall.error) lines.push(`  ${overall.error}`);
  return `${lines.join('\n')}\n`;
}
