import { PdfError } from './errors.js';
import { decodeStream } from './filters.js';
import { judge, type MdpPolicy } from './mdp.js';
import {
  isName,
  numberValue,
  PdfDict,
  PdfName,
  PdfReal,
  PdfRef,
  PdfStream,
  PdfString,
  type PdfValue,
} from './objects.js';
import type { FieldInfo, PdfDocument, Revisions } from './reader.js';
import { PageText, type TextWord } from './text-search.js';

// Difference analysis: what each revision after a signature changed, object by object, sorted into the
// kinds of change a signature may allow (more signatures, DSS, form filling, annotations) and the rest.
// Only objects a later cross-reference section redefines are compared, and values rather than bytes, so
// a re-serialized but identical object is no change. What the analysis cannot read is never allowed.

/** The kinds of change; each later revision's changes are one or more of these. */
export type ChangeKind =
  | 'signature-added'
  | 'signature-filled'
  | 'signature-field-added'
  | 'document-timestamp'
  | 'dss'
  | 'extensions'
  | 'metadata'
  | 'form-fill'
  | 'annotation'
  | 'disallowed'
  | 'unreadable';

/** One change a later revision makes. */
export interface Change {
  /** The 1-based revision that makes it. */
  revision: number;
  kind: ChangeKind;
  description: string;
  /** The form field it concerns, for field locks. */
  field?: string;
  /** For a new signature field: has a visible widget. */
  visible?: boolean;
  /** For a new signature widget: what it is placed over. */
  covers?: string;
  /** For an annotation: a comment that cannot paint over the page (a note, a highlight). */
  comment?: boolean;
}

/** A change and whether the signature's policy allows it. */
export interface JudgedChange extends Change {
  allowed: boolean;
}

/** What changed after one signature. */
export interface ChangeAnalysis {
  status: 'none' | 'allowed' | 'disallowed' | 'unreadable';
  changes: JudgedChange[];
}

/** Annotations that mark up or comment and cannot hide what is under them (P3 allows these). */
const COMMENT_SUBTYPES = new Set([
  'Text',
  'Popup',
  'Highlight',
  'Underline',
  'Squiggly',
  'StrikeOut',
  'Caret',
]);
/** Entries a DSS and its VRI dictionaries may have (ETSI EN 319 142-1 §5.4.2). */
const DSS_KEYS = new Set(['Type', 'Certs', 'OCSPs', 'CRLs', 'VRI']);
const VRI_KEYS = new Set(['Type', 'Cert', 'OCSP', 'CRL', 'TS', 'TU']);
/** Most values compared in one revision: a bound on what a crafted file can make the analysis do. */
const COMPARE_BUDGET = 2_000_000;

/** Reads each revision of a file once and classifies what every revision changed from the one before. */
export class RevisionDiffs {
  private readonly steps = new Map<number, Change[]>();

  constructor(readonly revisions: Revisions) {}

  /** The changes revision i (0-based, at least 1) makes to revision i − 1. */
  step(i: number): Change[] {
    let out = this.steps.get(i);
    if (!out) {
      try {
        out = new Step(this.revisions.document(i - 1), this.revisions.document(i), i + 1).classify();
      } catch (e) {
        out = [
          { revision: i + 1, kind: 'unreadable', description: `revision ${i + 1}: ${(e as Error).message}` },
        ];
      }
      this.steps.set(i, out);
    }
    return out;
  }
}

/** The changes after revision k (0-based), judged by the policy of the signatures up to it. */
export function analyseChanges(diffs: RevisionDiffs, k: number, policy: MdpPolicy): ChangeAnalysis {
  const changes: JudgedChange[] = [];
  for (let i = k + 1; i < diffs.revisions.list.length; i++)
    for (const c of diffs.step(i)) {
      const why = judge(policy, c);
      // A change never allowed says why itself; one the policy forbids gets the policy's reason.
      const forbidden = c.kind !== 'disallowed' && c.kind !== 'unreadable';
      if (!why) changes.push({ ...c, allowed: true });
      else
        changes.push({
          ...c,
          allowed: false,
          description: forbidden ? `${c.description}: ${why}` : c.description,
        });
    }
  const status = changes.some((c) => c.kind === 'unreadable')
    ? 'unreadable'
    : changes.some((c) => !c.allowed)
      ? 'disallowed'
      : k + 1 < diffs.revisions.list.length
        ? 'allowed'
        : 'none';
  return { status, changes };
}

/** Whether two values are the same, references compared as references; spends the budget. */
function same(
  a: PdfValue | undefined,
  b: PdfValue | undefined,
  budget: { left: number },
  skip?: Set<string>,
): boolean {
  if (--budget.left < 0) throw new PdfError('limit', 'too many values to compare');
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  const na = numberValue(a);
  if (na !== undefined) return na === numberValue(b);
  if (typeof a === 'boolean') return false;
  if (a instanceof PdfName) return b instanceof PdfName && a.value === b.value;
  if (a instanceof PdfString) return b instanceof PdfString && Buffer.compare(a.bytes, b.bytes) === 0;
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i], budget));
  if (a instanceof PdfStream) {
    if (!(b instanceof PdfStream)) return false;
    if (Buffer.compare(a.data, b.data) === 0) return same(a.dict, b.dict, budget, STREAM_KEYS);
    // Compressed differently, maybe: the same value when the decoded data and the other entries agree.
    if (!same(a.dict, b.dict, budget, ENCODING_KEYS)) return false;
    return sameDecoded(a, b, budget);
  }
  if (a instanceof PdfDict && b instanceof PdfDict) {
    const keys = new Set([...a.entries.keys(), ...b.entries.keys()]);
    for (const k of keys) if (!skip?.has(k) && !same(a.get(k), b.get(k), budget)) return false;
    return true;
  }
  return false;
}

const STREAM_KEYS = new Set(['Length']);
const ENCODING_KEYS = new Set(['Length', 'Filter', 'DecodeParms', 'DL']);
/** Most bytes a stream is decoded to for comparing. */
const MAX_DECODED = 64 * 1024 * 1024;

/** Whether two streams decode to the same bytes; a stream that cannot be decoded differs. */
function sameDecoded(a: PdfStream, b: PdfStream, budget: { left: number }): boolean {
  try {
    const limit = Math.min(MAX_DECODED, Math.max(1, budget.left) * 64);
    const da = decodeStream(a, limit);
    const db = decodeStream(b, limit);
    budget.left -= Math.ceil((da.length + db.length) / 64);
    return Buffer.compare(da, db) === 0;
  } catch {
    return false;
  }
}

/** The keys whose values differ between two dictionaries. */
function changedKeys(a: PdfDict, b: PdfDict, budget: { left: number }): string[] {
  const keys = new Set([...a.entries.keys(), ...b.entries.keys()]);
  return [...keys].filter((k) => !same(a.get(k), b.get(k), budget));
}

const dictOf = (v: PdfValue | undefined) =>
  v instanceof PdfStream ? v.dict : v instanceof PdfDict ? v : undefined;

type Role =
  | { kind: 'catalog' | 'acroform' | 'fields-array' | 'dr' | 'dss' | 'extensions' | 'metadata' | 'content' }
  | { kind: 'page' | 'annots-array'; page: number }
  | { kind: 'annotation'; page: number; subtype?: string }
  | { kind: 'field' | 'widget' | 'appearance'; field: FieldInfo }
  | { kind: 'signature'; field: string };

/** One revision compared with the one before it. */
class Step {
  private readonly out: Change[] = [];
  private readonly budget = { left: COMPARE_BUDGET };
  private readonly roles = new Map<number, Role>();
  /** Fields whose signature is set in this revision: their widget appearances may change too. */
  private readonly signedNow = new Set<number>();

  constructor(
    private readonly old: PdfDocument,
    private readonly neu: PdfDocument,
    private readonly revision: number,
  ) {}

  private add(kind: ChangeKind, description: string, extra: Partial<Change> = {}): void {
    this.out.push({ revision: this.revision, kind, description, ...extra });
  }

  private flag(description: string): void {
    this.add('disallowed', description);
  }

  classify(): Change[] {
    const { old, neu } = this;
    if (old.rootRef().key !== neu.rootRef().key) this.flag('the document catalog was replaced');
    const redefined = new Set<number>();
    for (const s of neu.sectionsSince(old)) for (const num of s.entries.keys()) redefined.add(num);
    const modified: PdfRef[] = [];
    for (const num of [...redefined].sort((a, b) => a - b)) {
      const gen = old.generationOf(num);
      if (gen === undefined) continue; // a new object: it matters only where a changed object refers to it
      if (neu.generationOf(num) !== gen) {
        this.flag(`object ${num} of the signed revision was freed or replaced`);
        continue;
      }
      const ref = new PdfRef(num, gen);
      if (!same(old.object(ref), neu.object(ref), this.budget)) modified.push(ref);
    }
    if (!modified.length) return this.out;
    this.assignRoles();
    for (const ref of modified) {
      const role = this.roles.get(ref.num);
      const was = dictOf(old.object(ref));
      if (role?.kind === 'field' && role.field.type === 'Sig' && was?.get('V') === undefined)
        if (dictOf(neu.object(ref))?.get('V') !== undefined) this.signedNow.add(ref.num);
    }
    const trailerInfo = old.trailerEntry('Info');
    const pagesTouched = new Set<number>();
    let formTouched = false;
    for (const ref of modified) {
      const role = this.roles.get(ref.num);
      const before = old.object(ref);
      const after = neu.object(ref);
      switch (role?.kind) {
        case 'catalog':
          this.catalog(before, after);
          formTouched = true;
          break;
        case 'acroform':
          this.acroForm(before, after);
          formTouched = true;
          break;
        case 'fields-array':
          formTouched = true;
          break;
        case 'dr':
          this.resources(before, after, 'the form’s default resources');
          break;
        case 'dss':
          this.dssPart(after);
          break;
        case 'extensions':
          if (isExtensions(before) && isExtensions(after))
            this.add('extensions', 'developer extensions updated');
          else this.flag('the catalog’s /Extensions object changed into something else');
          break;
        case 'metadata':
          if (isXmp(before) && isXmp(after)) this.add('metadata', 'the XMP metadata was updated');
          else this.flag('the catalog’s /Metadata object changed into something else');
          break;
        case 'page': {
          const keys = changedKeys(dictOf(before)!, dictOf(after) ?? new PdfDict(), this.budget);
          const other = keys.filter((k) => k !== 'Annots');
          if (!dictOf(after) || other.length)
            this.flag(`page ${role.page + 1} changed (${other.map((k) => `/${k}`).join(', ') || 'type'})`);
          pagesTouched.add(role.page);
          break;
        }
        case 'annots-array':
          pagesTouched.add(role.page);
          break;
        case 'annotation': {
          const subtype = dictOf(after)?.get('Subtype');
          const comment =
            COMMENT_SUBTYPES.has(role.subtype ?? '') &&
            isName(subtype) &&
            COMMENT_SUBTYPES.has(subtype.value);
          this.add(
            'annotation',
            `a ${role.subtype ?? 'nameless'} annotation on page ${role.page + 1} was changed`,
            {
              comment,
            },
          );
          break;
        }
        case 'field':
          this.field(role.field, before, after);
          formTouched = true;
          break;
        case 'widget':
        case 'appearance':
          this.appearance(role.field, role.kind, before, after);
          break;
        case 'signature':
          this.flag(`the signature dictionary of ${role.field} was redefined`);
          break;
        default:
          // The information dictionary only when it holds nothing but text: /Info may name any object.
          if (trailerInfo instanceof PdfRef && trailerInfo.num === ref.num && isInfo(before) && isInfo(after))
            this.add('metadata', 'the document information dictionary was updated');
          else this.flag(`object ${ref.num} (${describe(before)}) of the signed revision was changed`);
      }
    }
    const newWidgets = formTouched ? this.fields() : new Map<number, Change>();
    this.pages(pagesTouched, newWidgets);
    return this.out;
  }

  /** Roles of the objects of the old revision that some change may legitimately touch. */
  private assignRoles(): void {
    const { old, roles } = this;
    const set = (v: PdfValue | undefined, role: Role) => {
      if (v instanceof PdfRef && !roles.has(v.num)) roles.set(v.num, role);
    };
    const catalog = old.catalog();
    set(old.rootRef(), { kind: 'catalog' });
    old.pages().forEach((p, i) => {
      set(p.ref, { kind: 'page', page: i });
      set(p.dict.get('Annots'), { kind: 'annots-array', page: i });
      const contents = p.dict.get('Contents');
      set(contents, { kind: 'content' });
      const items = old.resolve(contents);
      if (Array.isArray(items)) for (const c of items) set(c, { kind: 'content' });
      for (let node: PdfDict | undefined = p.dict, depth = 0; node && depth < 32; depth++) {
        this.markResources(node.get('Resources'), 0);
        node = dictOf(old.resolve(node.get('Parent')));
      }
    });
    for (const field of old.fields()) {
      set(field.ref, { kind: 'field', field });
      if (field.type === 'Sig') {
        const v = field.dict.get('V');
        if (v instanceof PdfRef) roles.set(v.num, { kind: 'signature', field: field.name });
      }
      for (const w of field.widgets) {
        set(w, { kind: 'widget', field });
        const wd = dictOf(old.object(w));
        const ap = wd?.get('AP');
        set(ap, { kind: 'appearance', field });
        const apd = dictOf(old.resolve(ap));
        for (const k of ['N', 'R', 'D']) {
          const entry = apd?.get(k);
          set(entry, { kind: 'appearance', field });
          const states = old.resolve(entry);
          if (states instanceof PdfDict)
            for (const s of states.entries.values()) set(s, { kind: 'appearance', field });
        }
      }
    }
    old.pages().forEach((p, i) => {
      const annots = old.resolve(p.dict.get('Annots'));
      if (!Array.isArray(annots)) return;
      for (const a of annots) {
        const subtype = dictOf(old.resolve(a))?.get('Subtype');
        const role: Role = {
          kind: 'annotation',
          page: i,
          subtype: isName(subtype) ? subtype.value : undefined,
        };
        // Not its appearance streams: changed in place they could be what a page draws as well.
        set(a, role);
      }
    });
    const form = catalog.get('AcroForm');
    set(form, { kind: 'acroform' });
    const formDict = dictOf(old.resolve(form));
    if (formDict) {
      set(formDict.get('Fields'), { kind: 'fields-array' });
      set(formDict.get('DR'), { kind: 'dr' });
      set(dictOf(old.resolve(formDict.get('DR')))?.get('Font'), { kind: 'dr' });
    }
    set(catalog.get('Metadata'), { kind: 'metadata' });
    set(catalog.get('Extensions'), { kind: 'extensions' });
    // DSS containers last, and only of the shapes a DSS has, so they cannot claim a page's objects.
    const dss = catalog.get('DSS');
    set(dss, { kind: 'dss' });
    const dssDict = dictOf(old.resolve(dss));
    if (dssDict) {
      for (const k of ['Certs', 'OCSPs', 'CRLs', 'VRI']) set(dssDict.get(k), { kind: 'dss' });
      const vri = dictOf(old.resolve(dssDict.get('VRI')));
      if (vri) for (const v of vri.entries.values()) set(v, { kind: 'dss' });
    }
  }

  /**
   * Marks what page content draws with (fonts, images, form XObjects and their own resources) as
   * content, first, so that no appearance or other role can claim it and let it change.
   */
  private markResources(v: PdfValue | undefined, depth: number): void {
    if (v instanceof PdfRef) {
      if (this.roles.has(v.num)) return;
      this.roles.set(v.num, { kind: 'content' });
    }
    const res = dictOf(this.old.resolve(v));
    if (!res || depth > 8) return;
    for (const category of res.entries.values()) {
      if (category instanceof PdfRef) this.roles.set(category.num, { kind: 'content' });
      const entries = dictOf(this.old.resolve(category));
      if (!entries) continue;
      for (const item of entries.entries.values())
        if (item instanceof PdfRef && !this.roles.has(item.num)) {
          this.roles.set(item.num, { kind: 'content' });
          const x = this.old.resolve(item);
          if (x instanceof PdfStream) this.markResources(x.dict.get('Resources'), depth + 1);
        }
    }
  }

  /** A catalog may gain or change /AcroForm, /DSS, /Extensions and /Metadata, nothing else. */
  private catalog(before: PdfValue, after: PdfValue) {
    const a = dictOf(before)!;
    const b = dictOf(after);
    if (!b || !isName(b.get('Type'), 'Catalog')) return this.flag('the catalog is no longer a catalog');
    for (const k of changedKeys(a, b, this.budget)) {
      if (k === 'DSS') this.dssPart(this.neu.resolve(b.get('DSS')) ?? null, true);
      else if (k === 'AcroForm') {
        const was = a.get('AcroForm');
        // A new form, or a direct one rewritten: judge it as a form change.
        if (was === undefined || !(was instanceof PdfRef))
          this.acroForm(this.old.resolve(was) ?? new PdfDict(), this.neu.resolve(b.get(k)) ?? null);
        else this.flag('the catalog’s /AcroForm now points elsewhere');
      } else if (k === 'Extensions' && isExtensions(this.neu.resolve(b.get(k))))
        this.add('extensions', 'developer extensions updated');
      else if (k === 'Metadata' && isXmp(this.neu.resolve(b.get(k))))
        this.add('metadata', 'the XMP metadata was replaced');
      else this.flag(`the catalog’s /${k} changed`);
    }
  }

  /** A form may change /Fields (checked field by field), /SigFlags and /DR (only gaining entries). */
  private acroForm(before: PdfValue, after: PdfValue) {
    const a = dictOf(before) ?? new PdfDict();
    const b = dictOf(after);
    if (!b) return this.flag('/AcroForm is no longer a dictionary');
    // A form created for a new signature may come with its default appearance.
    const created = a.entries.size === 0;
    for (const k of changedKeys(a, b, this.budget)) {
      if (k === 'Fields' || k === 'SigFlags' || (created && k === 'DA')) continue;
      if (k === 'DR' && !(a.get('DR') instanceof PdfRef))
        this.resources(
          this.old.resolve(a.get('DR')) ?? new PdfDict(),
          this.neu.resolve(b.get('DR')) ?? null,
          'the form’s default resources',
        );
      else this.flag(`the form’s /${k} changed`);
    }
  }

  /** Resources may gain entries (fonts for a new appearance) but not change one that exists. */
  private resources(before: PdfValue, after: PdfValue, what: string, depth = 0) {
    const a = dictOf(before) ?? new PdfDict();
    const b = dictOf(after);
    if (!b) return this.flag(`${what} are no longer a dictionary`);
    for (const k of changedKeys(a, b, this.budget)) {
      const was = a.get(k);
      if (was === undefined) continue;
      if (depth === 0 && !(was instanceof PdfRef) && dictOf(was))
        this.resources(was, this.neu.resolve(b.get(k)) ?? null, `${what} /${k}`, 1);
      else this.flag(`${what}: /${k} was replaced or removed`);
    }
  }

  /** A DSS container: only dictionaries and arrays of the shapes a DSS has. */
  private dssPart(value: PdfValue, top = false) {
    const d = dictOf(value);
    const okArray = Array.isArray(value) && value.every((v) => v instanceof PdfRef);
    const keys = d ? [...d.entries.keys()] : [];
    const okDict =
      d &&
      !(value instanceof PdfStream) &&
      keys.every(
        (k) => (top ? DSS_KEYS : new Set([...DSS_KEYS, ...VRI_KEYS])).has(k) || /^[0-9A-F]{40,128}$/.test(k),
      );
    if (okArray || okDict)
      this.add('dss', top ? 'validation data (DSS) added or updated' : 'validation data (DSS) updated');
    else this.flag('the DSS holds something other than validation data');
  }

  /** An existing field: an empty signature field may be signed; another field's value may be filled. */
  private field(field: FieldInfo, before: PdfValue, after: PdfValue) {
    const a = dictOf(before)!;
    const b = dictOf(after);
    if (!b) return this.flag(`the field ${field.name} is no longer a dictionary`);
    const keys = changedKeys(a, b, this.budget);
    if (field.type === 'Sig') {
      if (a.get('V') !== undefined) return this.flag(`the signed field ${field.name} was redefined`);
      const other = keys.filter((k) => k !== 'V' && k !== 'AP');
      if (other.length)
        return this.flag(
          `the signature field ${field.name} changed (${other.map((k) => `/${k}`).join(', ')})`,
        );
      if (!keys.includes('V'))
        return this.flag(`the appearance of the empty signature field ${field.name} changed`);
      const v = b.get('V');
      if (!(v instanceof PdfRef) || this.old.generationOf(v.num) !== undefined)
        return this.flag(`the field ${field.name} was given an existing object as its signature`);
      const kind = signatureKind(this.neu.resolve(v));
      if (!kind) return this.flag(`the field ${field.name} was given a value that is not a signature`);
      this.add(
        kind === 'document-timestamp' ? 'document-timestamp' : 'signature-filled',
        `the empty signature field ${field.name} was signed`,
        { field: field.name },
      );
      return;
    }
    const other = keys.filter((k) => k !== 'V' && k !== 'AP' && k !== 'AS');
    if (other.length)
      return this.flag(`the field ${field.name} changed (${other.map((k) => `/${k}`).join(', ')})`);
    this.add('form-fill', `the field ${field.name} was filled`, { field: field.name });
  }

  /** A widget's appearance or state: form filling for a form field, part of signing for a signature field. */
  private appearance(field: FieldInfo, kind: 'widget' | 'appearance', before: PdfValue, after: PdfValue) {
    if (kind === 'widget') {
      const a = dictOf(before)!;
      const b = dictOf(after);
      const other = b ? changedKeys(a, b, this.budget).filter((k) => k !== 'AP' && k !== 'AS') : ['type'];
      if (other.length) return this.flag(`the widget of ${field.name} changed (${other.join(', ')})`);
    }
    if (field.type !== 'Sig')
      return this.add('form-fill', `the appearance of ${field.name} was updated`, { field: field.name });
    if (this.signedNow.has(field.ref.num)) return;
    this.flag(`the appearance of the signature field ${field.name} changed`);
  }

  /** Fields gained or lost: only new signature fields may appear. Returns the new widgets by number. */
  private fields(): Map<number, Change> {
    const before = new Set(this.old.fields().map((f) => f.ref.num));
    const after = this.neu.fields();
    const afterNums = new Set(after.map((f) => f.ref.num));
    for (const f of this.old.fields())
      if (!afterNums.has(f.ref.num)) this.flag(`the field ${f.name} was removed`);
    const widgets = new Map<number, Change>();
    for (const f of after) {
      if (before.has(f.ref.num)) continue;
      if (this.old.generationOf(f.ref.num) !== undefined)
        this.flag(`an object of the signed revision became the field ${f.name}`);
      if (f.type !== 'Sig') {
        this.flag(`a new ${f.type ?? 'untyped'} field ${f.name} was added`);
        continue;
      }
      const v = f.dict.get('V');
      const visible = f.widgets.some((w) => area(this.neu, dictOf(this.neu.object(w))) > 0);
      let change: Change;
      if (v === undefined)
        change = this.pending(
          'signature-field-added',
          `an empty signature field ${f.name} was added`,
          f,
          visible,
        );
      else {
        if (!(v instanceof PdfRef) || this.old.generationOf(v.num) !== undefined) {
          this.flag(`the new field ${f.name} reuses an existing object as its signature`);
          continue;
        }
        const kind = signatureKind(this.neu.resolve(v));
        if (!kind) {
          this.flag(`the new field ${f.name} has a value that is not a signature`);
          continue;
        }
        change = this.pending(
          kind === 'document-timestamp' ? 'document-timestamp' : 'signature-added',
          kind === 'document-timestamp'
            ? `a document time-stamp ${f.name} was added`
            : `a signature ${f.name} was added`,
          f,
          visible,
        );
      }
      for (const w of f.widgets) widgets.set(w.num, change);
      this.out.push(change);
    }
    return widgets;
  }

  private pending(kind: ChangeKind, description: string, f: FieldInfo, visible: boolean): Change {
    return { revision: this.revision, kind, description, field: f.name, visible };
  }

  /** Pages and their annotations: the same pages in the same order; annotations only as rules allow. */
  private pages(touched: Set<number>, newWidgets: Map<number, Change>): void {
    const oldPages = this.old.pages();
    const newPages = this.neu.pages();
    if (oldPages.length !== newPages.length || oldPages.some((p, i) => p.ref.key !== newPages[i].ref.key)) {
      this.flag(
        `the pages changed: ${oldPages.length} before, ${newPages.length} after, or in another order`,
      );
      return;
    }
    for (const i of touched) {
      const was = refs(this.old.resolve(oldPages[i].dict.get('Annots')));
      const now = refs(this.neu.resolve(newPages[i].dict.get('Annots')));
      if (!was || !now) {
        this.flag(`page ${i + 1} has an /Annots that is not an array of references`);
        continue;
      }
      const nowNums = new Set(now.map((r) => r.num));
      const wasNums = new Set(was.map((r) => r.num));
      for (const r of was) {
        if (nowNums.has(r.num)) continue;
        const d = dictOf(this.old.resolve(r));
        const subtype = d?.get('Subtype');
        if (isName(subtype, 'Widget')) this.flag(`a widget was removed from page ${i + 1}`);
        else
          this.add(
            'annotation',
            `a ${isName(subtype) ? subtype.value : 'nameless'} annotation was removed from page ${i + 1}`,
            { comment: isName(subtype) && COMMENT_SUBTYPES.has(subtype.value) },
          );
      }
      for (const r of now) {
        if (wasNums.has(r.num)) continue;
        const sig = newWidgets.get(r.num);
        const d = dictOf(this.neu.resolve(r));
        if (sig) {
          const covers = this.covered(d, was) ?? this.coveredText(d, i);
          if (covers) sig.covers = covers;
          continue;
        }
        const subtype = d?.get('Subtype');
        const hidden =
          this.old.generationOf(r.num) !== undefined ? ' (an object hidden in the signed revision)' : '';
        if (isName(subtype, 'Widget'))
          this.flag(`a widget of no new signature field was added to page ${i + 1}${hidden}`);
        else
          this.add(
            'annotation',
            `a ${isName(subtype) ? subtype.value : 'nameless'} annotation was added to page ${i + 1}${hidden}`,
            {
              comment: isName(subtype) && COMMENT_SUBTYPES.has(subtype.value),
            },
          );
      }
    }
  }

  /** What a new signature widget lies over among the annotations that are not signatures. */
  private covered(widget: PdfDict | undefined, existing: PdfRef[]): string | undefined {
    const r = rect(this.neu, widget);
    if (!r || area(this.neu, widget) === 0) return undefined;
    for (const e of existing) {
      const d = dictOf(this.old.resolve(e));
      if (!d || isName(this.old.resolve(d.get('FT')), 'Sig')) continue;
      const parent = dictOf(this.old.resolve(d.get('Parent')));
      if (parent && isName(this.old.resolve(parent.get('FT')), 'Sig')) continue;
      const o = rect(this.old, d);
      if (o && r[0] < o[2] && o[0] < r[2] && r[1] < o[3] && o[1] < r[3]) {
        const subtype = d.get('Subtype');
        return `a ${isName(subtype) ? subtype.value : ''} annotation`.replace('  ', ' ');
      }
    }
    return undefined;
  }

  /**
   * The page text a new signature widget lies over, from the signed revision's content. A page whose
   * text cannot be read makes no claim either way: the rest of the analysis still guards the content.
   */
  private coveredText(widget: PdfDict | undefined, page: number): string | undefined {
    const r = rect(this.neu, widget);
    if (!r || area(this.neu, widget) === 0) return undefined;
    let words: TextWord[];
    try {
      words = PageText.read(this.old, page).words();
    } catch {
      return undefined;
    }
    const under = words.filter((w) => {
      const x = Math.min(r[2], w.x + w.width) - Math.max(r[0], w.x);
      const y = Math.min(r[3], w.y + w.height) - Math.max(r[1], w.y);
      return x > 0 && y > 0 && x * y >= COVERED_SHARE * w.width * w.height;
    });
    if (!under.length) return undefined;
    const text = under.map((w) => w.text).join(' ');
    return `the text “${text.length > 40 ? `${text.slice(0, 40)}…` : text}” on page ${page + 1}`;
  }
}

/** Share of a word's box a signature must cover to count as painting over it: edges may touch. */
const COVERED_SHARE = 0.3;

/** An annotation's /Rect, normalized. */
function rect(doc: PdfDocument, d: PdfDict | undefined): [number, number, number, number] | undefined {
  const v = d ? doc.resolve(d.get('Rect')) : undefined;
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  const n = v.map((x) => numberValue(doc.resolve(x)));
  if (n.some((x) => x === undefined)) return undefined;
  const [a, b, c, e] = n as number[];
  return [Math.min(a, c), Math.min(b, e), Math.max(a, c), Math.max(b, e)];
}

function area(doc: PdfDocument, d: PdfDict | undefined): number {
  const r = rect(doc, d);
  return r ? (r[2] - r[0]) * (r[3] - r[1]) : 0;
}

function refs(v: PdfValue | undefined): PdfRef[] | undefined {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) && v.every((x) => x instanceof PdfRef) ? (v as PdfRef[]) : undefined;
}

/** A signature dictionary's kind, or undefined when it is not one. */
function signatureKind(v: PdfValue | undefined): 'signature' | 'document-timestamp' | undefined {
  const d = dictOf(v);
  if (!d || v instanceof PdfStream) return undefined;
  const type = d.get('Type');
  if (isName(type, 'DocTimeStamp') || isName(d.get('SubFilter'), 'ETSI.RFC3161')) return 'document-timestamp';
  return type === undefined || isName(type, 'Sig') ? 'signature' : undefined;
}

/** An information dictionary: text entries and /Trapped, nothing a page could use. */
function isInfo(v: PdfValue | undefined): boolean {
  if (!(v instanceof PdfDict)) return false;
  return [...v.entries].every(
    ([k, x]) => x instanceof PdfString || (k === 'Trapped' && x instanceof PdfName),
  );
}

/** An XMP metadata stream (§14.3.2). */
function isXmp(v: PdfValue | undefined): boolean {
  return (
    v instanceof PdfStream && isName(v.dict.get('Type'), 'Metadata') && isName(v.dict.get('Subtype'), 'XML')
  );
}

const EXTENSION_KEYS = new Set(['Type', 'BaseVersion', 'ExtensionLevel', 'URL', 'ExtensionRevision']);

/** A developer extensions dictionary (§7.12): prefixes mapping to extension dictionaries, all direct. */
function isExtensions(v: PdfValue | undefined): boolean {
  if (!(v instanceof PdfDict)) return false;
  const isExtension = (x: PdfValue) =>
    x instanceof PdfDict && [...x.entries.keys()].every((k) => EXTENSION_KEYS.has(k));
  return [...v.entries].every(
    ([k, x]) =>
      (k === 'Type' && x instanceof PdfName) || isExtension(x) || (Array.isArray(x) && x.every(isExtension)),
  );
}

/** A short description of an object for a message: its /Type or /Subtype, or what it is. */
function describe(v: PdfValue): string {
  const d = dictOf(v);
  const t = d?.get('Type') ?? d?.get('Subtype');
  if (isName(t)) return `${v instanceof PdfStream ? 'stream ' : ''}/${t.value}`;
  if (v instanceof PdfStream) return 'a stream';
  if (d) return 'a dictionary';
  if (Array.isArray(v)) return 'an array';
  return v instanceof PdfReal || typeof v === 'number' ? 'a number' : 'a value';
}
