import { PdfError } from '../errors.js';
import type { PdfDocument, Revisions } from '../syntax/index.js';
import {
  decodeText,
  isWhitespace,
  Lexer,
  latin1,
  PdfDict,
  PdfRef,
  PdfStream,
  type PdfValue,
} from '../syntax/index.js';
import type { Change } from './kinds.js';

// Rules over a signed revision and everything after it, beyond what comparing one revision with the
// next can see: object numbers the signed revision names without defining, and bytes after the last
// revision. Both find changes that no policy allows.

/** What the signed-revision rules need to know about a file's revisions, each computed once. */
export interface RevisionFacts {
  readonly revisions: Revisions;
  /** Object numbers revision k (0-based) names, from its trailer on, without defining them. */
  undefinedObjects(k: number): Set<number>;
  /** Object numbers revision i's own cross-reference sections define (not those they mark free). */
  defined(i: number): Set<number>;
}

/** A rule over the revisions after a signed one. */
export interface SignedRevisionRule {
  readonly name: string;
  /** The changes after revision k (0-based) the rule finds. */
  changes(facts: RevisionFacts, k: number): Change[];
}

/**
 * A later definition of a number the signed revision names but leaves free or never defines changes what
 * the signed pages show without changing a byte they hold (issue 8 §2): an annotation, a content stream,
 * an XObject or a font appears where viewers showed nothing.
 */
export const undefinedObjectsRule: SignedRevisionRule = {
  name: 'undefined-objects',
  changes(facts, k) {
    const holes = facts.undefinedObjects(k);
    const out: Change[] = [];
    if (!holes.size) return out;
    const filled = new Set<number>();
    for (let i = k + 1; i < facts.revisions.list.length; i++)
      for (const num of facts.defined(i))
        if (holes.has(num) && !filled.has(num)) {
          filled.add(num);
          out.push({
            revision: i + 1,
            kind: 'disallowed',
            description: `object ${num}, which the signed revision names but does not define, was defined`,
          });
        }
    return out;
  },
};

/**
 * Only white space (NUL, tab, line ends, form feed, space) may follow the last revision's %%EOF:
 * anything else, such as objects appended without a cross-reference section, a damaged or missing
 * final trailer or startxref or a file cut short, is bytes whose meaning a repairing reader decides.
 */
export const trailingDataRule: SignedRevisionRule = {
  name: 'trailing-data',
  changes(facts) {
    const tail = trailingData(facts.revisions.latest);
    if (!tail) return [];
    return [
      {
        revision: facts.revisions.list.length + 1,
        kind: 'unreadable',
        description: `${tail.length} bytes after the last revision (from offset ${tail.offset}) are not a readable revision`,
      },
    ];
  },
};

/** The rules over a signed revision, in order. */
export const SIGNED_REVISION_RULES: readonly SignedRevisionRule[] = [undefinedObjectsRule, trailingDataRule];

/** Where the bytes after the last revision start and how many they are, when they are not white space. */
export function trailingData(doc: PdfDocument): { offset: number; length: number } | undefined {
  const { bytes, end: offset } = doc;
  for (let i = offset; i < bytes.length; i++)
    if (!isWhitespace(bytes[i])) return { offset, length: bytes.length - offset };
  return undefined;
}

/** Most values looked at when walking one revision: a bound on what a crafted file can make it do. */
const WALK_BUDGET = 20_000_000;

/**
 * The object numbers a revision names without defining them, walking from its trailer through every
 * object it defines. A reference whose generation is not the defined one counts too: readers differ on
 * whether it resolves. An object that cannot be read is skipped: comparing revisions reports it.
 * `known` holds the references inside each object version already read, by where it is stored, so that
 * walking several revisions of one file reads each version once.
 */
export function undefinedObjects(doc: PdfDocument, known = new Map<string, PdfRef[]>()): Set<number> {
  const out = new Set<number>();
  const seen = new Set<number>();
  const stack: PdfRef[] = [];
  let budget = WALK_BUDGET;
  const spend = () => {
    if (--budget < 0) throw new PdfError('limit', 'too many values to walk in one revision');
  };
  const push = (v: PdfValue | undefined) => {
    for (const ref of refsIn(v, spend)) stack.push(ref);
  };
  push(doc.trailerEntry('Root'));
  push(doc.trailerEntry('Info'));
  for (let ref = stack.pop(); ref; ref = stack.pop()) {
    spend();
    const e = doc.entry(ref.num);
    if (!e || e.type === 'free' || doc.generationOf(ref.num) !== ref.gen) {
      out.add(ref.num);
      continue;
    }
    if (seen.has(ref.num)) continue;
    seen.add(ref.num);
    const version =
      e.type === 'offset' ? `${e.offset}` : `${e.stream}.${e.index}@${JSON.stringify(doc.entry(e.stream))}`;
    let inside = known.get(version);
    if (!inside) {
      try {
        inside = refsIn(doc.object(ref), spend);
      } catch {
        // Comparing the revisions reports what cannot be read.
        inside = [];
      }
      known.set(version, inside);
    }
    for (const r of inside) stack.push(r);
  }
  return out;
}

/** The references a value holds, at any depth, not following them. */
function refsIn(v: PdfValue | undefined, spend: () => void): PdfRef[] {
  const out: PdfRef[] = [];
  const stack: (PdfValue | undefined)[] = [v];
  while (stack.length) {
    spend();
    const x = stack.pop();
    if (x instanceof PdfRef) out.push(x);
    else if (x instanceof PdfStream) stack.push(x.dict);
    else if (x instanceof PdfDict) for (const y of x.entries.values()) stack.push(y);
    else if (Array.isArray(x)) for (const y of x) stack.push(y);
  }
  return out;
}

const HEADER = /(\d{1,10})\s+\d{1,5}\s+obj\b/g;
const SIGNATURE_FIELD = /\/FT\s*\/Sig\b/;
const SIGNATURE_VALUE = /\/ByteRange\b|\/Type\s*\/(?:Sig|DocTimeStamp)\b|\/SubFilter\s*\/ETSI\.RFC3161\b/;
const FIELD_NAME = /\/T\s*(?=[(<])/;

/**
 * The signature fields that lie in the bytes after the last revision, found by their syntax since no
 * cross-reference section leads to them: their names, or `object N` for a signature dictionary whose
 * field is not there. So a file cut inside its last update lists that update's signature, never drops it.
 */
export function signaturesAfterLastRevision(revisions: Revisions): string[] {
  const tail = trailingData(revisions.latest);
  if (!tail) return [];
  const { bytes } = revisions.latest;
  const text = latin1(bytes, tail.offset, bytes.length);
  const headers = [...text.matchAll(HEADER)];
  const fields: string[] = [];
  const values: string[] = [];
  headers.forEach((h, i) => {
    const body = text.slice(h.index, headers[i + 1]?.index ?? text.length);
    if (SIGNATURE_FIELD.test(body))
      fields.push(fieldName(bytes, tail.offset + h.index, body) ?? `object ${h[1]}`);
    else if (SIGNATURE_VALUE.test(body)) values.push(`object ${h[1]}`);
  });
  return fields.length ? fields : values;
}

/** A field's /T, read from where it appears in an object's body. */
function fieldName(bytes: Uint8Array, start: number, body: string): string | undefined {
  const m = FIELD_NAME.exec(body);
  if (!m) return undefined;
  try {
    const t = new Lexer(bytes, start + m.index + m[0].length).next();
    return t.type === 'string' ? decodeText(t.bytes) : undefined;
  } catch {
    return undefined;
  }
}
