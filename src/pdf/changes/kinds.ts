// The vocabulary of the difference analysis: what a later revision changed, and how a policy judged it.

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
  /** The 1-based revision that makes it (one past the last for bytes after the last revision). */
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
  /** Object numbers the signed revision names without defining them: nothing now, but a later revision may fill them. */
  undefinedObjects: number[];
}
