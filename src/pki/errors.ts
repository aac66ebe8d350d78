import { KysoError } from '../errors.js';

/** A PKI input or template that Kyso refuses; `code` is a stable kebab-case key for http/ and cli/. */
export class PkiError extends KysoError<string> {
  override readonly name = 'PkiError';
}

/** Runs a parser and turns its DER-level failures into one domain code, e.g. 'malformed-csr'. */
export function withCode<T>(code: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof PkiError && e.code === 'malformed-der')
      throw new PkiError(code, `${what}: ${e.message}`);
    throw e;
  }
}
