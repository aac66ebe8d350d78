import type { FieldInfo, PdfDocument } from '../syntax/index.js';
import { isName, PdfDict, PdfRef, PdfStream, type PdfValue } from '../syntax/index.js';
import { dictOf } from './compare.js';

// What each object of a signed revision is to the document, for the objects a later change may touch:
// the rules that judge a changed object look it up here.

/** An object's role in the signed revision. */
export type Role =
  | { kind: 'catalog' | 'acroform' | 'fields-array' | 'dr' | 'dss' | 'extensions' | 'metadata' | 'content' }
  | { kind: 'page' | 'annots-array'; page: number }
  | { kind: 'annotation'; page: number; subtype?: string }
  | { kind: 'field' | 'widget' | 'appearance'; field: FieldInfo }
  | { kind: 'signature'; field: string };

/**
 * The roles of a revision's objects. Page content and what it draws with come first, so that no
 * appearance or other role can claim them and let them change; DSS containers last, so that they
 * cannot claim a page's objects.
 */
export function assignRoles(old: PdfDocument): Map<number, Role> {
  const roles = new Map<number, Role>();
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
      markResources(old, roles, node.get('Resources'), 0);
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
      const ap = dictOf(old.object(w))?.get('AP');
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
      // Not its appearance streams: changed in place they could be what a page draws as well.
      set(a, { kind: 'annotation', page: i, subtype: isName(subtype) ? subtype.value : undefined });
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
  const dss = catalog.get('DSS');
  set(dss, { kind: 'dss' });
  const dssDict = dictOf(old.resolve(dss));
  if (dssDict) {
    for (const k of ['Certs', 'OCSPs', 'CRLs', 'VRI']) set(dssDict.get(k), { kind: 'dss' });
    const vri = dictOf(old.resolve(dssDict.get('VRI')));
    if (vri) for (const v of vri.entries.values()) set(v, { kind: 'dss' });
  }
  return roles;
}

/** Marks what page content draws with (fonts, images, form XObjects and their own resources) as content. */
function markResources(
  old: PdfDocument,
  roles: Map<number, Role>,
  v: PdfValue | undefined,
  depth: number,
): void {
  if (v instanceof PdfRef) {
    if (roles.has(v.num)) return;
    roles.set(v.num, { kind: 'content' });
  }
  const res = dictOf(old.resolve(v));
  if (!res || depth > 8) return;
  for (const category of res.entries.values()) {
    if (category instanceof PdfRef) roles.set(category.num, { kind: 'content' });
    const entries = dictOf(old.resolve(category));
    if (!entries) continue;
    for (const item of entries.entries.values())
      if (item instanceof PdfRef && !roles.has(item.num)) {
        roles.set(item.num, { kind: 'content' });
        const x = old.resolve(item);
        if (x instanceof PdfStream) markResources(old, roles, x.dict.get('Resources'), depth + 1);
      }
  }
}
