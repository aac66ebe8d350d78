import { describe, expect, it } from 'vitest';
import type { Change } from './kinds.js';
import { lockCovers, type MdpPolicy, policyAt, type SignedTransforms } from './mdp.js';
import { DiffPolicy, judge } from './policy.js';

const change = (kind: Change['kind'], extra: Partial<Change> = {}): Change => ({
  revision: 3,
  kind,
  description: kind,
  ...extra,
});

describe('field locks', () => {
  it('cover all fields, the named ones and their descendants, or all but the named ones', () => {
    expect(lockCovers({ action: 'all' }, 'x')).toBe(true);
    expect(lockCovers({ action: 'include', fields: ['a'] }, 'a')).toBe(true);
    expect(lockCovers({ action: 'include', fields: ['a'] }, 'a.b')).toBe(true);
    expect(lockCovers({ action: 'include', fields: ['a'] }, 'ab')).toBe(false);
    expect(lockCovers({ action: 'exclude', fields: ['a'] }, 'a')).toBe(false);
    expect(lockCovers({ action: 'exclude', fields: ['a'] }, 'b')).toBe(true);
  });
});

describe('policies', () => {
  const all: SignedTransforms[] = [
    { field: 'S1', revision: 1, docMdp: 2 },
    { field: 'S2', revision: 2, fieldMdp: { action: 'include', fields: ['x'] } },
    { field: 'S3', revision: undefined, docMdp: 1 },
  ];

  it('take the signatures up to the revision, and one whose revision is unknown, to fail closed', () => {
    expect(policyAt(all.slice(0, 2), 1)).toEqual({ level: 2, locks: [] });
    expect(policyAt(all.slice(0, 2), 2)).toEqual({ level: 2, locks: [{ action: 'include', fields: ['x'] }] });
    expect(policyAt(all, 1).level).toBe(1);
  });

  it('judge each kind of change by the DocMDP level and the locks', () => {
    const none: MdpPolicy = { locks: [] };
    const p1: MdpPolicy = { level: 1, locks: [] };
    const p2: MdpPolicy = { level: 2, locks: [{ action: 'include', fields: ['x'] }] };
    const p3: MdpPolicy = { level: 3, locks: [] };
    for (const p of [none, p1, p2, p3]) {
      expect(judge(p, change('dss'))).toBeUndefined();
      expect(judge(p, change('document-timestamp'))).toBeUndefined();
      expect(judge(p, change('disallowed'))).toBeDefined();
      expect(judge(p, change('unreadable'))).toBeDefined();
    }
    expect(judge(none, change('signature-added'))).toBeUndefined();
    expect(judge(p1, change('signature-added'))).toContain('P1');
    expect(judge(p2, change('signature-added', { covers: 'a Widget annotation' }))).toContain('covers');
    expect(judge(none, change('signature-added', { covers: 'a Widget annotation' }))).toBeUndefined();
    expect(judge(p2, change('signature-field-added', { visible: true }))).toContain('not signed');
    expect(judge(p2, change('signature-field-added', { visible: false }))).toBeUndefined();
    expect(judge(p2, change('form-fill', { field: 'y' }))).toBeUndefined();
    expect(judge(p2, change('form-fill', { field: 'x' }))).toContain('locked');
    expect(judge(p1, change('form-fill', { field: 'y' }))).toContain('P1');
    expect(judge(p2, change('annotation', { comment: true }))).toBeDefined();
    expect(judge(p3, change('annotation', { comment: true }))).toBeUndefined();
    expect(judge(p3, change('annotation', { comment: false }))).toContain('paint over');
    expect(judge(p1, change('metadata'))).toContain('P1');
    expect(judge(none, change('metadata'))).toBeUndefined();
  });
});

describe('rule objects composed into a policy per level', () => {
  it('hold the rules of their DocMDP level; field locks add vetoes', () => {
    const names = (p: DiffPolicy) => p.rules.map((r) => r.name);
    expect(names(new DiffPolicy(1))).toEqual(['validation-data', 'document-timestamps']);
    const signingAndForms = ['validation-data', 'document-timestamps', 'signing', 'form-filling', 'metadata'];
    expect(names(new DiffPolicy('none'))).toEqual(signingAndForms);
    expect(names(new DiffPolicy(2))).toEqual(signingAndForms);
    expect(names(new DiffPolicy(3))).toEqual([...signingAndForms, 'comments']);
    const locked = DiffPolicy.of({
      level: 3,
      locks: [{ action: 'all' }, { action: 'include', fields: ['x'] }],
    });
    expect(locked.vetoes).toHaveLength(2);
    expect(locked.judge(change('form-fill', { field: 'y' }))).toBe('the field y is locked');
    // A lock speaks for field changes only: a document time-stamp names a field too.
    expect(locked.judge(change('document-timestamp', { field: 'y' }))).toBeUndefined();
  });

  it('refuse what no rule of theirs allows, in the refusing rule’s words', () => {
    expect(new DiffPolicy(2).judge(change('annotation', { comment: true }))).toBe(
      'annotations may not change after this signature',
    );
    expect(new DiffPolicy(3).judge(change('annotation', { comment: false }))).toBe(
      'an annotation that can paint over the page',
    );
    expect(new DiffPolicy('none').judge(change('disallowed'))).toBe('not an allowed change');
    expect(new DiffPolicy(1).judge(change('extensions'))).toBeUndefined();
  });
});
