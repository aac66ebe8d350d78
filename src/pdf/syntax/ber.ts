import { PdfError } from '../errors.js';

// Some signers (NSS, which poppler and Firefox use; BouncyCastle) write the CMS in /Contents with BER
// indefinite lengths. The CMS reader takes DER, so lengths are rewritten as definite ones; contents are
// copied as they are. Signed attributes are signed in their DER form (RFC 5652 §5.4), so this changes
// nothing that a signature covers.

interface Node {
  tag: number;
  /** Primitive contents, or the children of a constructed value. */
  content: Uint8Array | Node[];
}

const MAX_DEPTH = 64;
const MAX_NODES = 100_000;

function bad(message: string): never {
  throw new PdfError('bad-object', `BER: ${message}`);
}

/**
 * Reads one BER element at the start of input and returns its DER-length encoding and the bytes it took.
 * Only lengths are normalized; a definite-length input comes back as it was.
 */
export function definiteLengths(input: Uint8Array): { der: Uint8Array; consumed: number } {
  let nodes = 0;
  const read = (pos: number, end: number, depth: number): { node: Node; next: number } => {
    if (depth > MAX_DEPTH) bad('nested too deeply');
    if (++nodes > MAX_NODES) bad('too many elements');
    if (pos + 2 > end) bad('truncated');
    const tag = input[pos];
    if ((tag & 0x1f) === 0x1f) bad('multi-byte tags are not supported');
    const constructed = (tag & 0x20) !== 0;
    let p = pos + 1;
    const first = input[p++];
    if (first === 0x80) {
      if (!constructed) bad('indefinite length on a primitive value');
      const children: Node[] = [];
      while (true) {
        if (p + 2 > end) bad('missing end-of-contents');
        if (input[p] === 0 && input[p + 1] === 0) return { node: { tag, content: children }, next: p + 2 };
        const child = read(p, end, depth + 1);
        children.push(child.node);
        p = child.next;
      }
    }
    let length = first;
    if (first & 0x80) {
      const n = first & 0x7f;
      if (n > 4 || p + n > end) bad('bad length');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + input[p++];
    }
    const stop = p + length;
    if (stop > end) bad('truncated');
    if (!constructed) return { node: { tag, content: input.subarray(p, stop) }, next: stop };
    const children: Node[] = [];
    while (p < stop) {
      const child = read(p, stop, depth + 1);
      children.push(child.node);
      p = child.next;
    }
    return { node: { tag, content: children }, next: stop };
  };
  const { node, next } = read(0, input.length, 0);
  const out = new Uint8Array(size(node));
  write(out, 0, node);
  return { der: out, consumed: next };
}

function lengthBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

const sizes = new WeakMap<Node, number>();

function contentSize(node: Node): number {
  const known = sizes.get(node);
  if (known !== undefined) return known;
  const n =
    node.content instanceof Uint8Array ? node.content.length : node.content.reduce((s, c) => s + size(c), 0);
  sizes.set(node, n);
  return n;
}

function size(node: Node): number {
  const n = contentSize(node);
  return 1 + lengthBytes(n) + n;
}

function write(out: Uint8Array, pos: number, node: Node): number {
  const n = contentSize(node);
  out[pos++] = node.tag;
  const lb = lengthBytes(n);
  if (lb === 1) out[pos++] = n;
  else {
    out[pos++] = 0x80 | (lb - 1);
    for (let i = lb - 2; i >= 0; i--) out[pos++] = Math.floor(n / 2 ** (8 * i)) & 0xff;
  }
  if (node.content instanceof Uint8Array) {
    out.set(node.content, pos);
    return pos + node.content.length;
  }
  for (const c of node.content) pos = write(out, pos, c);
  return pos;
}
