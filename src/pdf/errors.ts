import { KysoError } from '../errors.js';

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
export class PdfError extends KysoError<PdfErrorCode> {
  override readonly name = 'PdfError';
}
