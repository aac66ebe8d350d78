import { describe, expect, it } from 'vitest';
import { PdfError } from '../errors.js';
import { Lexer, type Token } from './lexer.js';
import { PdfDict, PdfName, PdfReal, PdfRef, PdfString } from './objects.js';
import { parseIndirectObject, parseValue } from './parser.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const tokens = (s: string) => {
  const lx = new Lexer(bytes(s));
  const out: Token[] = [];
  for (let t = lx.next(); t.type !== 'eof'; t = lx.next()) out.push(t);
  return out;
};
const value = (s: string, maxDepth = 64) => parseValue(new Lexer(bytes(s)), { maxDepth, inFile: true });
const text = (v: unknown) => Buffer.from((v as PdfString).bytes).toString('latin1');

describe('Lexer', () => {
  it('reads numbers, integers apart from reals', () => {
    const t = tokens('42 -17 +3 4. -.5 0.25 007');
    expect(t.map((x) => (x.type === 'number' ? [x.value, x.integer] : x.type))).toEqual([
      [42, true],
      [-17, true],
      [3, true],
      [4, false],
      [-0.5, false],
      [0.25, false],
      [7, true],
    ]);
  });

  it('reads names with #xx escapes', () => {
    const t = tokens('/Type /A#20B /#2F /');
    expect(t.map((x) => (x.type === 'name' ? x.value : x.type))).toEqual(['Type', 'A B', '/', '']);
  });

  it('reads literal strings: escapes, octal, balanced parentheses, line continuations, EOL as LF', () => {
    const [a, b, c, d] = tokens('(a\\(b\\)c\\\\) (x(y)z) (\\101\\7\\0123) (one\\\r\ntwo\rthree\r\nfour\\q)');
    expect(text(a.type === 'string' && new PdfString(a.bytes))).toBe('a(b)c\\');
    expect(text(b.type === 'string' && new PdfString(b.bytes))).toBe('x(y)z');
    expect(text(c.type === 'string' && new PdfString(c.bytes))).toBe('A\x07\n3');
    expect(text(d.type === 'string' && new PdfString(d.bytes))).toBe('onetwo\nthree\nfourq');
  });

  it('reads hex strings with white space and an odd final digit', () => {
    const [t] = tokens('<48 65 6C\n6c6F7>');
    expect(t.type === 'string' && Buffer.from(t.bytes).toString('hex')).toBe('48656c6c6f70');
    expect(t.type === 'string' && t.hex).toBe(true);
    expect(t.start).toBe(0);
    expect(t.end).toBe(16);
  });

  it('skips comments and reads delimiters and keywords', () => {
    const t = tokens('% comment\n<< /A [1 2] >> obj endobj % trailing');
    expect(t.map((x) => ('value' in x ? x.value : x.type))).toEqual([
      '<<',
      'A',
      '[',
      1,
      2,
      ']',
      '>>',
      'obj',
      'endobj',
    ]);
  });

  it.each([
    ['an unterminated string', '(unterminated', 'unterminated string'],
    ['an unterminated hex string', '<4142', 'unterminated hex string'],
    ['a non-hex digit', '<41zz>', 'bad character'],
    ['a short #xx escape', '/A#4', 'bad #xx'],
    ['a stray parenthesis', ')', 'stray'],
    ['an integer past 2^53', '99999999999999999999', 'out of range'],
    ['a 300-character keyword', 'k'.repeat(300), 'too long'],
  ])('refuses %s', (_, input, message) => {
    expect(() => tokens(input)).toThrow(message);
  });
});

describe('parseValue', () => {
  it('reads the object kinds', () => {
    const d = value(
      '<< /Int 5 /Real 1.5 /Name /X /Str (s) /Arr [1 0 R true false] /Ref 12 0 R /Null null >>',
    );
    expect(d).toBeInstanceOf(PdfDict);
    const dict = d as PdfDict;
    expect(dict.get('Int')).toBe(5);
    expect(dict.get('Real')).toEqual(new PdfReal(1.5));
    expect(dict.get('Name')).toEqual(new PdfName('X'));
    expect(text(dict.get('Str'))).toBe('s');
    expect(dict.get('Arr')).toEqual([new PdfRef(1, 0), true, false]);
    expect(dict.get('Ref')).toEqual(new PdfRef(12, 0));
    // A null entry is an absent one.
    expect(dict.has('Null')).toBe(false);
  });

  it('keeps integers that are not references', () => {
    expect(value('[1 2 3 4]')).toEqual([1, 2, 3, 4]);
    expect(value('[1 2 R]')).toEqual([new PdfRef(1, 2)]);
  });

  it('records where strings lie in the file', () => {
    const d = value('<< /Contents <00FF> >>') as PdfDict;
    expect((d.get('Contents') as PdfString).span).toEqual({ start: 13, end: 19 });
  });

  it('refuses repeated keys, which readers would resolve differently', () => {
    expect(() => value('<< /Contents <00> /Contents <01> >>')).toThrow('repeats the key /Contents');
  });

  it('bounds nesting', () => {
    expect(() => value(`${'['.repeat(100)}${']'.repeat(100)}`, 64)).toThrow(PdfError);
    expect(value(`${'['.repeat(10)}${']'.repeat(10)}`, 64)).toBeInstanceOf(Array);
  });

  it('refuses keys that are not names and stray keywords', () => {
    expect(() => value('<< 1 2 >>')).toThrow('not a name');
    expect(() => value('[obj]')).toThrow('unexpected keyword');
    expect(() => value('<< /A 1')).toThrow('unexpected end');
  });
});

describe('parseIndirectObject', () => {
  const limits = { maxDepth: 64, inFile: true };
  const noLength = () => {
    throw new Error('no indirect lengths here');
  };

  it('reads a stream whose /Length is right', () => {
    const src = bytes('7 0 obj\n<< /Length 5 >>\nstream\r\nhello\nendstream\nendobj\n');
    const obj = parseIndirectObject(src, 0, limits, noLength, new PdfRef(7, 0));
    expect(obj.ref.key).toBe('7 0');
    expect(Buffer.from((obj.value as { data: Uint8Array }).data).toString()).toBe('hello');
    expect(obj.end).toBe(src.length - 1);
  });

  it('resolves an indirect /Length', () => {
    const src = bytes('1 0 obj << /Length 9 0 R >> stream\nabc\nendstream endobj');
    const obj = parseIndirectObject(src, 0, limits, () => 3);
    expect(Buffer.from((obj.value as { data: Uint8Array }).data).toString()).toBe('abc');
  });

  it('refuses a wrong /Length, a missing endobj and an unexpected object number', () => {
    expect(() =>
      parseIndirectObject(
        bytes('1 0 obj << /Length 2 >> stream\nabc\nendstream endobj'),
        0,
        limits,
        noLength,
      ),
    ).toThrow('does not end where its /Length says');
    expect(() => parseIndirectObject(bytes('1 0 obj (x) 2 0 obj'), 0, limits, noLength)).toThrow(
      'expected endobj',
    );
    expect(() =>
      parseIndirectObject(bytes('1 0 obj (x) endobj'), 0, limits, noLength, new PdfRef(2, 0)),
    ).toThrow('not 2 0');
    expect(() =>
      parseIndirectObject(
        bytes('1 0 obj << /Length 999 >> stream\nabc\nendstream endobj'),
        0,
        limits,
        noLength,
      ),
    ).toThrow('past the end');
  });
});
