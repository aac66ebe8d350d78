import type { Change, ChangeKind } from './kinds.js';
import { type DocMdpLevel, lockCovers, type MdpPolicy } from './mdp.js';

// What a signature allows after it, as small rules composed into a policy (after pyHanko's DiffPolicy):
// every change is refused unless a rule of the policy allows it. Each rule speaks for some changes and
// names the DocMDP levels it belongs to; field locks (FieldMDP) are vetoes the policy adds on top.

/** A DocMDP level, or 'none' for a document no signature certifies. */
export type PolicyLevel = DocMdpLevel | 'none';

/** A rule allowing one sort of change. */
export interface AllowRule {
  readonly name: string;
  /** Whether the rule speaks for this change. */
  matches(change: Change): boolean;
  /** The levels whose policy holds the rule. */
  readonly levels: readonly PolicyLevel[];
  /** Why a change it speaks for is refused under a level without the rule. */
  refusal(level: PolicyLevel): string;
  /** Under a policy with the rule: the reason a change still may not pass, if any. */
  condition?(change: Change, level: PolicyLevel): string | undefined;
}

/** A veto a policy adds: the reason a change allowed so far may not pass, if any. */
export type Veto = (change: Change) => string | undefined;

const ALL: readonly PolicyLevel[] = ['none', 1, 2, 3];
const NOT_P1: readonly PolicyLevel[] = ['none', 2, 3];
const kindIn =
  (...kinds: ChangeKind[]) =>
  (c: Change) =>
    kinds.includes(c.kind);

/** Validation data and the markers later writers need: anything else in them is judged as content. */
const validationData: AllowRule = {
  name: 'validation-data',
  matches: kindIn('dss', 'extensions'),
  levels: ALL,
  refusal: () => 'not an allowed change',
};

/** A document time-stamp has nothing to show: a visible one on a certified document is a sneaky signature. */
const documentTimeStamps: AllowRule = {
  name: 'document-timestamps',
  matches: kindIn('document-timestamp'),
  levels: ALL,
  refusal: () => 'not an allowed change',
  condition: (c, level) =>
    c.visible && level !== 'none'
      ? 'a visible document time-stamp was added to a certified document'
      : undefined,
};

/** More signatures, in new fields or in empty ones, and empty signature fields. */
const signing: AllowRule = {
  name: 'signing',
  matches: kindIn('signature-added', 'signature-filled', 'signature-field-added'),
  levels: NOT_P1,
  refusal: () => 'the certification (P1) allows no further signatures',
  condition(c, level) {
    if (level === 'none') return undefined;
    if (c.covers) return `a signature appearance covers ${c.covers} of a certified document`;
    if (c.kind === 'signature-field-added' && c.visible)
      return 'a visible signature field that is not signed was added to a certified document';
    return undefined;
  },
};

const formFilling: AllowRule = {
  name: 'form-filling',
  matches: kindIn('form-fill'),
  levels: NOT_P1,
  refusal: () => 'the certification (P1) allows no form filling',
};

const metadata: AllowRule = {
  name: 'metadata',
  matches: kindIn('metadata'),
  levels: NOT_P1,
  refusal: () => 'the certification (P1) allows no metadata change',
};

/** Comments that cannot paint over the page: P3 only. */
const comments: AllowRule = {
  name: 'comments',
  matches: (c) => c.kind === 'annotation' && c.comment === true,
  levels: [3],
  refusal: () => 'annotations may not change after this signature',
};

/** Annotations that can paint over the page: no level allows them. */
const paintingAnnotations: AllowRule = {
  name: 'painting-annotations',
  matches: (c) => c.kind === 'annotation' && c.comment !== true,
  levels: [],
  refusal: (level) =>
    level === 3
      ? 'an annotation that can paint over the page'
      : 'annotations may not change after this signature',
};

/** Every allow rule, in the order they are asked. */
export const ALLOW_RULES: readonly AllowRule[] = [
  validationData,
  documentTimeStamps,
  signing,
  formFilling,
  metadata,
  comments,
  paintingAnnotations,
];

/** Changes to a field that a field lock forbids. */
const LOCKABLE = kindIn('signature-added', 'signature-filled', 'signature-field-added', 'form-fill');

/** The rules and vetoes that judge the changes after one signature. */
export class DiffPolicy {
  readonly rules: readonly AllowRule[];

  constructor(
    readonly level: PolicyLevel,
    readonly vetoes: readonly Veto[] = [],
  ) {
    this.rules = ALLOW_RULES.filter((r) => r.levels.includes(level));
  }

  /** The policy of the DocMDP level and field locks of the signatures up to one. */
  static of(mdp: MdpPolicy): DiffPolicy {
    const vetoes: Veto[] = mdp.locks.map(
      (lock) => (c) =>
        LOCKABLE(c) && c.field !== undefined && lockCovers(lock, c.field)
          ? `the field ${c.field} is locked`
          : undefined,
    );
    return new DiffPolicy(mdp.level ?? 'none', vetoes);
  }

  /** Undefined when the policy allows the change; else why not. */
  judge(change: Change): string | undefined {
    const rule = ALLOW_RULES.find((r) => r.matches(change));
    if (!rule) return 'not an allowed change';
    if (!this.rules.includes(rule)) return rule.refusal(this.level);
    for (const veto of this.vetoes) {
      const why = veto(change);
      if (why) return why;
    }
    return rule.condition?.(change, this.level);
  }
}

/** Whether a policy permits a change; the reason when it does not. */
export function judge(policy: MdpPolicy, change: Change): string | undefined {
  return DiffPolicy.of(policy).judge(change);
}
