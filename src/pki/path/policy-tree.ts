import { OID } from '../oids.js';

// RFC 5280's valid_policy_tree (§6.1.2 (a), §6.1.3 (d), §6.1.4 (b), §6.1.5 (g)), one level per
// certificate. Qualifiers are not kept: Kyso does not act on them.

const ANY = OID.anyPolicy;

interface PolicyNode {
  policy: string;
  expected: Set<string>;
  parent?: PolicyNode;
  children: PolicyNode[];
  depth: number;
}

/** The valid_policy_tree; `levels[d]` holds the nodes at depth d, and an empty level 0 is the NULL tree. */
export class PolicyTree {
  private levels: PolicyNode[][];

  constructor() {
    this.levels = [[{ policy: ANY, expected: new Set([ANY]), children: [], depth: 0 }]];
  }

  /** Whether the tree is NULL. */
  get isNull(): boolean {
    return this.levels[0].length === 0;
  }

  /** Sets the tree to NULL. */
  clear(): void {
    this.levels = [[]];
  }

  private add(parent: PolicyNode, policy: string, expected: Iterable<string>): void {
    const node: PolicyNode = {
      policy,
      expected: new Set(expected),
      parent,
      children: [],
      depth: parent.depth + 1,
    };
    parent.children.push(node);
    if (!this.levels[node.depth]) this.levels[node.depth] = [];
    this.levels[node.depth].push(node);
  }

  private remove(node: PolicyNode): void {
    for (const c of [...node.children]) this.remove(c);
    const level = this.levels[node.depth];
    level.splice(level.indexOf(node), 1);
    if (node.parent) node.parent.children.splice(node.parent.children.indexOf(node), 1);
  }

  /** Removes childless nodes above depth `below`, bottom up. */
  private prune(below: number): void {
    for (let d = below - 1; d >= 0; d--)
      for (const n of [...(this.levels[d] ?? [])]) if (n.children.length === 0) this.remove(n);
  }

  /** §6.1.3 (d): grows level i from certificate i's policies; anyPolicy counts when `anyAllowed`. */
  processPolicies(i: number, policies: string[], anyAllowed: boolean): void {
    if (this.isNull) return;
    const parents = this.levels[i - 1] ?? [];
    this.levels[i] = [];
    for (const p of policies) {
      if (p === ANY) continue;
      const matching = parents.filter((n) => n.expected.has(p));
      if (matching.length > 0) for (const n of matching) this.add(n, p, [p]);
      else for (const n of parents.filter((x) => x.policy === ANY)) this.add(n, p, [p]);
    }
    if (policies.includes(ANY) && anyAllowed)
      for (const n of parents)
        for (const e of n.expected) if (!n.children.some((c) => c.policy === e)) this.add(n, e, [e]);
    this.prune(i);
  }

  /** §6.1.4 (b): applies certificate i's policy mappings, or deletes the mapped nodes when mapping is inhibited. */
  applyMappings(i: number, mappings: { issuer: string; subject: string }[], mappingAllowed: boolean): void {
    if (this.isNull) return;
    const byIssuer = new Map<string, string[]>();
    for (const m of mappings) byIssuer.set(m.issuer, [...(byIssuer.get(m.issuer) ?? []), m.subject]);
    for (const [issuerPolicy, subjects] of byIssuer) {
      const level = this.levels[i] ?? [];
      if (mappingAllowed) {
        const nodes = level.filter((n) => n.policy === issuerPolicy);
        if (nodes.length > 0) for (const n of nodes) n.expected = new Set(subjects);
        else
          for (const any of level.filter((n) => n.policy === ANY))
            if (any.parent) this.add(any.parent, issuerPolicy, subjects);
      } else for (const n of level.filter((x) => x.policy === issuerPolicy)) this.remove(n);
    }
    if (!mappingAllowed) this.prune(i);
  }

  /** §6.1.5 (g): intersects the tree with the user-initial-policy-set (empty means anyPolicy). */
  intersect(n: number, initial: string[]): void {
    if (this.isNull || initial.length === 0 || initial.includes(ANY)) return;
    const wanted = new Set(initial);
    const all = this.levels.flat();
    const validSet = all.filter((x) => x.parent?.policy === ANY);
    for (const node of validSet)
      if (node.policy !== ANY && !wanted.has(node.policy) && this.levels[node.depth].includes(node))
        this.remove(node);
    const anyLeaf = (this.levels[n] ?? []).find((x) => x.policy === ANY);
    if (anyLeaf?.parent) {
      const present = new Set(validSet.map((x) => x.policy));
      for (const p of wanted) if (!present.has(p)) this.add(anyLeaf.parent, p, [p]);
      this.remove(anyLeaf);
    }
    this.prune(n);
  }

  /** The valid_policy values at depth n (the leaves of a full path). */
  leafPolicies(n: number): string[] {
    return [...new Set((this.levels[n] ?? []).map((x) => x.policy))];
  }
}
