import type { FieldInfo, PdfDocument } from '../syntax/index.js';
import { isName, PdfDict, PdfRef, PdfStream, type PdfValue } from '../syntax/index.js';
import { PageText, type TextWord } from '../text/index.js';
import { type Budget, COMPARE_BUDGET, changedKeys, dictOf, same } from './compare.js';
import type { Change, ChangeKind } from './kinds.js';
import { assignRoles, type Role } from './roles.js';
import {
  area,
  COMMENT_SUBTYPES,
  DSS_KEYS,
  declaredVersion,
  describe,
  isExtensions,
  isInfo,
  isXmp,
  raisesVersion,
  rect,
  refs,
  signatureKind,
  VRI_KEYS,
} from './shapes.js';

// One revision compared with the one before it, object by object, by a list of small rules that each
// look at one aspect (the catalog, the objects redefined, the form's fields, the pages) and sort what
// they find into kinds of change. Only objects a later cross-reference section redefines are compared.

/** One check of a revision against the one before it; the rules run in order and share the step. */
export interface StepRule {
  readonly name: string;
  apply(step: Step): void;
}

/** A revision being compared with the one before it, and what the rules found so far. */
export class Step {
  readonly out: Change[] = [];
  readonly budget: Budget = { left: COMPARE_BUDGET };
  roles = new Map<number, Role>();
  /** Objects of the old revision whose value the new one changes. */
  readonly modified: PdfRef[] = [];
  /** Fields whose signature is set in this revision: their widget appearances may change too. */
  readonly signedNow = new Set<number>();
  readonly pagesTouched = new Set<number>();
  formTouched = false;
  /** The widgets of new signature fields, by object number, with the change that adds each. */
  newWidgets = new Map<number, Change>();

  constructor(
    readonly old: PdfDocument,
    readonly neu: PdfDocument,
    /** The 1-based number of the new revision. */
    readonly revision: number,
  ) {}

  add(kind: ChangeKind, description: string, extra: Partial<Change> = {}): void {
    this.out.push({ revision: this.revision, kind, description, ...extra });
  }

  flag(description: string): void {
    this.add('disallowed', description);
  }

  /** Runs the rules; what they found. */
  classify(rules: readonly StepRule[] = STEP_RULES): Change[] {
    for (const rule of rules) rule.apply(this);
    return this.out;
  }
}

/** The document keeps its catalog: a new /Root is a new document (shadow attack "hide and replace"). */
const catalogKept: StepRule = {
  name: 'catalog-kept',
  apply(s) {
    if (s.old.rootRef().key !== s.neu.rootRef().key) s.flag('the document catalog was replaced');
  },
};

/**
 * The objects the new cross-reference sections redefine: those of the old revision must keep their
 * generation and are compared by value; new numbers matter only where a changed object refers to them
 * (and, for numbers the signed revision names without defining, to the undefined-objects rule).
 */
const objectsKept: StepRule = {
  name: 'objects-kept',
  apply(s) {
    const redefined = new Set<number>();
    for (const x of s.neu.sectionsSince(s.old)) for (const num of x.entries.keys()) redefined.add(num);
    for (const num of [...redefined].sort((a, b) => a - b)) {
      const gen = s.old.generationOf(num);
      if (gen === undefined) continue;
      if (s.neu.generationOf(num) !== gen) {
        s.flag(`object ${num} of the signed revision was freed or replaced`);
        continue;
      }
      const ref = new PdfRef(num, gen);
      if (!same(s.old.object(ref), s.neu.object(ref), s.budget)) s.modified.push(ref);
    }
  },
};

/** How a changed object of a role is judged. */
type RoleRule = (s: Step, role: Role, ref: PdfRef, before: PdfValue, after: PdfValue) => void;

/** Each changed object judged by what it was to the signed revision. */
const changedByRole: StepRule = {
  name: 'changed-by-role',
  apply(s) {
    if (!s.modified.length) return;
    s.roles = assignRoles(s.old);
    for (const ref of s.modified) {
      const role = s.roles.get(ref.num);
      if (
        role?.kind === 'field' &&
        role.field.type === 'Sig' &&
        dictOf(s.old.object(ref))?.get('V') === undefined
      )
        if (dictOf(s.neu.object(ref))?.get('V') !== undefined) s.signedNow.add(ref.num);
    }
    for (const ref of s.modified) {
      const role = s.roles.get(ref.num);
      ROLE_RULES[role?.kind ?? 'other'](s, role as Role, ref, s.old.object(ref), s.neu.object(ref));
    }
  },
};

const ROLE_RULES: Record<Role['kind'] | 'other', RoleRule> = {
  catalog(s, _, __, before, after) {
    catalog(s, before, after);
    s.formTouched = true;
  },
  acroform(s, _, __, before, after) {
    acroForm(s, before, after);
    s.formTouched = true;
  },
  'fields-array'(s) {
    s.formTouched = true;
  },
  dr(s, _, __, before, after) {
    resources(s, before, after, 'the form’s default resources');
  },
  dss(s, _, __, ___, after) {
    dssPart(s, after);
  },
  extensions(s, _, __, before, after) {
    if (isExtensions(s.old, before) && isExtensions(s.neu, after))
      s.add('extensions', 'developer extensions updated');
    else s.flag('the catalog’s /Extensions object changed into something else');
  },
  metadata(s, _, __, before, after) {
    if (isXmp(before) && isXmp(after)) s.add('metadata', 'the XMP metadata was updated');
    else s.flag('the catalog’s /Metadata object changed into something else');
  },
  content(s, role, ref, before, after) {
    ROLE_RULES.other(s, role, ref, before, after);
  },
  page(s, role, _, before, after) {
    const page = (role as { page: number }).page;
    const keys = changedKeys(dictOf(before)!, dictOf(after) ?? new PdfDict(), s.budget);
    const other = keys.filter((k) => k !== 'Annots');
    if (!dictOf(after) || other.length)
      s.flag(`page ${page + 1} changed (${other.map((k) => `/${k}`).join(', ') || 'type'})`);
    s.pagesTouched.add(page);
  },
  'annots-array'(s, role) {
    s.pagesTouched.add((role as { page: number }).page);
  },
  annotation(s, role, _, __, after) {
    const { page, subtype: was } = role as { page: number; subtype?: string };
    const subtype = dictOf(after)?.get('Subtype');
    const comment = COMMENT_SUBTYPES.has(was ?? '') && isName(subtype) && COMMENT_SUBTYPES.has(subtype.value);
    s.add('annotation', `a ${was ?? 'nameless'} annotation on page ${page + 1} was changed`, { comment });
  },
  field(s, role, _, before, after) {
    field(s, (role as { field: FieldInfo }).field, before, after);
    s.formTouched = true;
  },
  widget(s, role, _, before, after) {
    appearance(s, (role as { field: FieldInfo }).field, 'widget', before, after);
  },
  appearance(s, role, _, before, after) {
    appearance(s, (role as { field: FieldInfo }).field, 'appearance', before, after);
  },
  signature(s, role) {
    s.flag(`the signature dictionary of ${(role as { field: string }).field} was redefined`);
  },
  other(s, _, ref, before, after) {
    // The information dictionary only when it holds nothing but text: /Info may name any object.
    const info = s.old.trailerEntry('Info');
    if (info instanceof PdfRef && info.num === ref.num && isInfo(before) && isInfo(after))
      s.add('metadata', 'the document information dictionary was updated');
    else s.flag(`object ${ref.num} (${describe(before)}) of the signed revision was changed`);
  },
};

/** Fields gained or lost, when the form changed: only new signature fields may appear. */
const fieldsAdded: StepRule = {
  name: 'fields-added',
  apply(s) {
    if (s.formTouched) s.newWidgets = fields(s);
  },
};

/** The same pages in the same order; annotations only as the policy allows. */
const pagesKept: StepRule = {
  name: 'pages-kept',
  apply(s) {
    if (s.modified.length) pages(s);
  },
};

/** The rules a revision is compared by, in order. */
export const STEP_RULES: readonly StepRule[] = [
  catalogKept,
  objectsKept,
  changedByRole,
  fieldsAdded,
  pagesKept,
];

/**
 * A catalog may gain or change /AcroForm, /DSS, /Extensions and /Metadata, and raise /Version (a
 * later writer may need a later version, as pyHanko's 2.0 for its extensions), nothing else.
 */
function catalog(s: Step, before: PdfValue, after: PdfValue) {
  const a = dictOf(before)!;
  const b = dictOf(after);
  if (!b || !isName(b.get('Type'), 'Catalog')) return s.flag('the catalog is no longer a catalog');
  for (const k of changedKeys(a, b, s.budget)) {
    if (k === 'DSS') dssPart(s, s.neu.resolve(b.get('DSS')) ?? null, true);
    else if (k === 'AcroForm') {
      const was = a.get('AcroForm');
      // A new form, or a direct one rewritten: judge it as a form change.
      if (was === undefined || !(was instanceof PdfRef))
        acroForm(s, s.old.resolve(was) ?? new PdfDict(), s.neu.resolve(b.get(k)) ?? null);
      else s.flag('the catalog’s /AcroForm now points elsewhere');
    } else if (k === 'Extensions' && isExtensions(s.neu, s.neu.resolve(b.get(k))))
      s.add('extensions', 'developer extensions updated');
    else if (k === 'Version' && raisesVersion(declaredVersion(s.old), b.get(k)))
      s.add('extensions', `the PDF version was raised to ${(b.get(k) as { value: string }).value}`);
    else if (k === 'Metadata' && isXmp(s.neu.resolve(b.get(k))))
      s.add('metadata', 'the XMP metadata was replaced');
    else s.flag(`the catalog’s /${k} changed`);
  }
}

/** A form may change /Fields (checked field by field), /SigFlags and /DR (only gaining entries). */
function acroForm(s: Step, before: PdfValue, after: PdfValue) {
  const a = dictOf(before) ?? new PdfDict();
  const b = dictOf(after);
  if (!b) return s.flag('/AcroForm is no longer a dictionary');
  // A form created for a new signature may come with its default appearance.
  const created = a.entries.size === 0;
  for (const k of changedKeys(a, b, s.budget)) {
    if (k === 'Fields' || k === 'SigFlags' || (created && k === 'DA')) continue;
    if (k === 'DR' && !(a.get('DR') instanceof PdfRef))
      resources(
        s,
        s.old.resolve(a.get('DR')) ?? new PdfDict(),
        s.neu.resolve(b.get('DR')) ?? null,
        'the form’s default resources',
      );
    else s.flag(`the form’s /${k} changed`);
  }
}

/** Resources may gain entries (fonts for a new appearance) but not change one that exists. */
function resources(s: Step, before: PdfValue, after: PdfValue, what: string, depth = 0) {
  const a = dictOf(before) ?? new PdfDict();
  const b = dictOf(after);
  if (!b) return s.flag(`${what} are no longer a dictionary`);
  for (const k of changedKeys(a, b, s.budget)) {
    const was = a.get(k);
    if (was === undefined) continue;
    if (depth === 0 && !(was instanceof PdfRef) && dictOf(was))
      resources(s, was, s.neu.resolve(b.get(k)) ?? null, `${what} /${k}`, 1);
    else s.flag(`${what}: /${k} was replaced or removed`);
  }
}

/** A DSS container: only dictionaries and arrays of the shapes a DSS has. */
function dssPart(s: Step, value: PdfValue, top = false) {
  const d = dictOf(value);
  const okArray = Array.isArray(value) && value.every((v) => v instanceof PdfRef);
  const keys = d ? [...d.entries.keys()] : [];
  const allowed = top ? DSS_KEYS : new Set([...DSS_KEYS, ...VRI_KEYS]);
  const okDict =
    d && !(value instanceof PdfStream) && keys.every((k) => allowed.has(k) || /^[0-9A-F]{40,128}$/.test(k));
  if (okArray || okDict)
    s.add('dss', top ? 'validation data (DSS) added or updated' : 'validation data (DSS) updated');
  else s.flag('the DSS holds something other than validation data');
}

/** An existing field: an empty signature field may be signed; another field's value may be filled. */
function field(s: Step, f: FieldInfo, before: PdfValue, after: PdfValue) {
  const a = dictOf(before)!;
  const b = dictOf(after);
  if (!b) return s.flag(`the field ${f.name} is no longer a dictionary`);
  const keys = changedKeys(a, b, s.budget);
  if (f.type === 'Sig') {
    if (a.get('V') !== undefined) return s.flag(`the signed field ${f.name} was redefined`);
    const other = keys.filter((k) => k !== 'V' && k !== 'AP');
    if (other.length)
      return s.flag(`the signature field ${f.name} changed (${other.map((k) => `/${k}`).join(', ')})`);
    if (!keys.includes('V')) return s.flag(`the appearance of the empty signature field ${f.name} changed`);
    const v = b.get('V');
    if (!(v instanceof PdfRef) || s.old.generationOf(v.num) !== undefined)
      return s.flag(`the field ${f.name} was given an existing object as its signature`);
    const kind = signatureKind(s.neu.resolve(v));
    if (!kind) return s.flag(`the field ${f.name} was given a value that is not a signature`);
    s.add(
      kind === 'document-timestamp' ? 'document-timestamp' : 'signature-filled',
      `the empty signature field ${f.name} was signed`,
      {
        field: f.name,
      },
    );
    return;
  }
  const other = keys.filter((k) => k !== 'V' && k !== 'AP' && k !== 'AS');
  if (other.length) return s.flag(`the field ${f.name} changed (${other.map((k) => `/${k}`).join(', ')})`);
  s.add('form-fill', `the field ${f.name} was filled`, { field: f.name });
}

/** A widget's appearance or state: form filling for a form field, part of signing for a signature field. */
function appearance(s: Step, f: FieldInfo, kind: 'widget' | 'appearance', before: PdfValue, after: PdfValue) {
  if (kind === 'widget') {
    const a = dictOf(before)!;
    const b = dictOf(after);
    const other = b ? changedKeys(a, b, s.budget).filter((k) => k !== 'AP' && k !== 'AS') : ['type'];
    if (other.length) return s.flag(`the widget of ${f.name} changed (${other.join(', ')})`);
  }
  if (f.type !== 'Sig')
    return s.add('form-fill', `the appearance of ${f.name} was updated`, { field: f.name });
  if (s.signedNow.has(f.ref.num)) return;
  s.flag(`the appearance of the signature field ${f.name} changed`);
}

/** Fields gained or lost: only new signature fields may appear. Returns the new widgets by number. */
function fields(s: Step): Map<number, Change> {
  const before = new Set(s.old.fields().map((f) => f.ref.num));
  const after = s.neu.fields();
  const afterNums = new Set(after.map((f) => f.ref.num));
  for (const f of s.old.fields()) if (!afterNums.has(f.ref.num)) s.flag(`the field ${f.name} was removed`);
  const widgets = new Map<number, Change>();
  for (const f of after) {
    if (before.has(f.ref.num)) continue;
    if (s.old.generationOf(f.ref.num) !== undefined)
      s.flag(`an object of the signed revision became the field ${f.name}`);
    if (f.type !== 'Sig') {
      s.flag(`a new ${f.type ?? 'untyped'} field ${f.name} was added`);
      continue;
    }
    const v = f.dict.get('V');
    const visible = f.widgets.some((w) => area(s.neu, dictOf(s.neu.object(w))) > 0);
    const pending = (kind: ChangeKind, description: string): Change => ({
      revision: s.revision,
      kind,
      description,
      field: f.name,
      visible,
    });
    let change: Change;
    if (v === undefined)
      change = pending('signature-field-added', `an empty signature field ${f.name} was added`);
    else {
      if (!(v instanceof PdfRef) || s.old.generationOf(v.num) !== undefined) {
        s.flag(`the new field ${f.name} reuses an existing object as its signature`);
        continue;
      }
      const kind = signatureKind(s.neu.resolve(v));
      if (!kind) {
        s.flag(`the new field ${f.name} has a value that is not a signature`);
        continue;
      }
      change =
        kind === 'document-timestamp'
          ? pending('document-timestamp', `a document time-stamp ${f.name} was added`)
          : pending('signature-added', `a signature ${f.name} was added`);
    }
    for (const w of f.widgets) widgets.set(w.num, change);
    s.out.push(change);
  }
  return widgets;
}

/** Pages and their annotations: the same pages in the same order; annotations only as rules allow. */
function pages(s: Step): void {
  const oldPages = s.old.pages();
  const newPages = s.neu.pages();
  if (oldPages.length !== newPages.length || oldPages.some((p, i) => p.ref.key !== newPages[i].ref.key)) {
    s.flag(`the pages changed: ${oldPages.length} before, ${newPages.length} after, or in another order`);
    return;
  }
  for (const i of s.pagesTouched) {
    const was = refs(s.old.resolve(oldPages[i].dict.get('Annots')));
    const now = refs(s.neu.resolve(newPages[i].dict.get('Annots')));
    if (!was || !now) {
      s.flag(`page ${i + 1} has an /Annots that is not an array of references`);
      continue;
    }
    const nowNums = new Set(now.map((r) => r.num));
    const wasNums = new Set(was.map((r) => r.num));
    for (const r of was) {
      if (nowNums.has(r.num)) continue;
      const subtype = dictOf(s.old.resolve(r))?.get('Subtype');
      if (isName(subtype, 'Widget')) s.flag(`a widget was removed from page ${i + 1}`);
      else
        s.add(
          'annotation',
          `a ${isName(subtype) ? subtype.value : 'nameless'} annotation was removed from page ${i + 1}`,
          {
            comment: isName(subtype) && COMMENT_SUBTYPES.has(subtype.value),
          },
        );
    }
    for (const r of now) {
      if (wasNums.has(r.num)) continue;
      const sig = s.newWidgets.get(r.num);
      const d = dictOf(s.neu.resolve(r));
      if (sig) {
        const covers = covered(s, d, was) ?? coveredText(s, d, i);
        if (covers) sig.covers = covers;
        continue;
      }
      const subtype = d?.get('Subtype');
      const hidden =
        s.old.generationOf(r.num) !== undefined ? ' (an object hidden in the signed revision)' : '';
      if (isName(subtype, 'Widget'))
        s.flag(`a widget of no new signature field was added to page ${i + 1}${hidden}`);
      else
        s.add(
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
function covered(s: Step, widget: PdfDict | undefined, existing: PdfRef[]): string | undefined {
  const r = rect(s.neu, widget);
  if (!r || area(s.neu, widget) === 0) return undefined;
  for (const e of existing) {
    const d = dictOf(s.old.resolve(e));
    if (!d || isName(s.old.resolve(d.get('FT')), 'Sig')) continue;
    const parent = dictOf(s.old.resolve(d.get('Parent')));
    if (parent && isName(s.old.resolve(parent.get('FT')), 'Sig')) continue;
    const o = rect(s.old, d);
    if (o && r[0] < o[2] && o[0] < r[2] && r[1] < o[3] && o[1] < r[3]) {
      const subtype = d.get('Subtype');
      return `a ${isName(subtype) ? subtype.value : ''} annotation`.replace('  ', ' ');
    }
  }
  return undefined;
}

/** Share of a word's box a signature must cover to count as painting over it: edges may touch. */
const COVERED_SHARE = 0.3;

/**
 * The page text a new signature widget lies over, from the signed revision's content. A page whose
 * text cannot be read makes no claim either way: the rest of the analysis still guards the content.
 */
function coveredText(s: Step, widget: PdfDict | undefined, page: number): string | undefined {
  const r = rect(s.neu, widget);
  if (!r || area(s.neu, widget) === 0) return undefined;
  let words: TextWord[];
  try {
    words = PageText.read(s.old, page).words();
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
