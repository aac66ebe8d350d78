// PDF syntax: objects, lexer, parser, cross-reference, filters, the reader and the incremental writer.
export { definiteLengths } from './ber.js';
export { decodeStream } from './filters.js';
export { IncrementalUpdate, RawObject, type WrittenUpdate } from './incremental.js';
export { isWhitespace, Lexer, latin1 } from './lexer.js';
export {
  ByteWriter,
  dict,
  formatNumber,
  isName,
  name,
  numberValue,
  PdfDict,
  PdfName,
  PdfReal,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
  writeValue,
} from './objects.js';
export { parseValue } from './parser.js';
export { decodePng } from './png.js';
export {
  type Box,
  type FieldInfo,
  type PageInfo,
  PdfDocument,
  type ReadOptions,
  type Revision,
  Revisions,
  type SignatureDictionary,
  type SignatureField,
} from './reader.js';
export { decodeText, encodeText, formatPdfDate, parsePdfDate, textOf } from './text.js';
