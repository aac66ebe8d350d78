/** Stable kebab-case keys for what went wrong; http/ and cli/ map them to messages and statuses. */
export type PdfErrorCode =
  | 'too-large'
  | 'limit'
  | 'syntax'
  | 'bad-xref'
  | 'bad-object'
  | 'bad-stream'
  | 'unsupported-filter'
  | 'unsupported'
  | 'encrypted'
  | 'cycle'
  | 'bad-structure'
  | 'bad-input'
  | 'field-exists'
  | 'no-placeholder'
  | 'contents-too-small'
  | 'certificate-key-mismatch'
  | 'bad-signature-value'
  | 'bad-timestamp'
  | 'anchor-not-found';

/** A PDF Kyso refuses to read or a request it refuses to carry out. */
export class PdfError extends Error {
  readonly code: PdfErrorCode;

  constructor(code: PdfErrorCode, message: string) {
    super(message);
    this.name = 'PdfError';
    this.code = code;
  }
}
