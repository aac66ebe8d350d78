import type { PdfRef, Revisions } from '../syntax/index.js';
import type { Change, ChangeAnalysis, JudgedChange } from './kinds.js';
import type { MdpPolicy } from './mdp.js';
import { DiffPolicy } from './policy.js';
import { type RevisionFacts, SIGNED_REVISION_RULES, undefinedObjects } from './signed.js';
import { Step } from './step.js';

// Difference analysis: what each revision after a signature changed, sorted into the kinds of change a
// signature may allow (more signatures, DSS, form filling, annotations) and the rest, then judged by the
// policy of the signatures up to it. What the analysis cannot read is never allowed.

/** Reads each revision of a file once and classifies what every revision changed from the one before. */
export class RevisionDiffs implements RevisionFacts {
  private readonly steps = new Map<number, Change[]>();
  private readonly holes = new Map<number, Set<number>>();
  private readonly definitions = new Map<number, Set<number>>();
  /** The references inside each object version read, shared by the walks of every revision. */
  private readonly versions = new Map<string, PdfRef[]>();

  constructor(readonly revisions: Revisions) {}

  /** The changes revision i (0-based, at least 1) makes to revision i − 1. */
  step(i: number): Change[] {
    let out = this.steps.get(i);
    if (!out) {
      out = this.readable(i + 1, () =>
        new Step(this.revisions.document(i - 1), this.revisions.document(i), i + 1).classify(),
      );
      this.steps.set(i, out);
    }
    return out;
  }

  undefinedObjects(k: number): Set<number> {
    let out = this.holes.get(k);
    if (!out) {
      out = undefinedObjects(this.revisions.document(k), this.versions);
      this.holes.set(k, out);
    }
    return out;
  }

  defined(i: number): Set<number> {
    let out = this.definitions.get(i);
    if (!out) {
      const doc = this.revisions.document(i);
      const sections = i > 0 ? doc.sectionsSince(this.revisions.document(i - 1)) : doc.sections;
      out = new Set<number>();
      for (const x of sections) for (const [num, e] of x.entries) if (e.type !== 'free') out.add(num);
      this.definitions.set(i, out);
    }
    return out;
  }

  /** What a check found, or one unreadable change saying why it could not finish. */
  readable(revision: number, check: () => Change[]): Change[] {
    try {
      return check();
    } catch (e) {
      return [{ revision, kind: 'unreadable', description: `revision ${revision}: ${(e as Error).message}` }];
    }
  }
}

/** The changes after revision k (0-based), judged by the policy of the signatures up to it. */
export function analyseChanges(diffs: RevisionDiffs, k: number, mdp: MdpPolicy): ChangeAnalysis {
  const policy = DiffPolicy.of(mdp);
  const found: Change[] = [];
  for (let i = k + 1; i < diffs.revisions.list.length; i++) found.push(...diffs.step(i));
  for (const rule of SIGNED_REVISION_RULES)
    found.push(...diffs.readable(k + 1, () => rule.changes(diffs, k)));
  const changes: JudgedChange[] = found.map((c) => {
    const why = policy.judge(c);
    if (!why) return { ...c, allowed: true };
    // A change never allowed says why itself; one the policy forbids gets the policy's reason.
    const forbidden = c.kind !== 'disallowed' && c.kind !== 'unreadable';
    return { ...c, allowed: false, description: forbidden ? `${c.description}: ${why}` : c.description };
  });
  let undefinedObjects: number[] = [];
  try {
    undefinedObjects = [...diffs.undefinedObjects(k)].sort((a, b) => a - b);
  } catch {
    // The walk's own limit: the undefined-objects rule has already reported it as unreadable.
  }
  const status = changes.some((c) => c.kind === 'unreadable')
    ? 'unreadable'
    : changes.some((c) => !c.allowed)
      ? 'disallowed'
      : k + 1 < diffs.revisions.list.length
        ? 'allowed'
        : 'none';
  return { status, changes, undefinedObjects };
}
