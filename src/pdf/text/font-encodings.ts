// The tables a text search needs to read simple fonts without a /ToUnicode (ISO 32000-1 §9.6.6, Annex D):
// the base encodings, glyph names to Unicode, and the widths of the standard-14 fonts, which a PDF may
// use without /Widths.

/** A simple font's base encoding: code → Unicode text ('' when the code is undefined). */
export type BaseEncoding = (code: number) => string;

// Windows-1252's 0x80–0x9F (0 where undefined); elsewhere it is Latin-1. Node's TextDecoder reads the
// label windows-1252 as Latin-1, so the table is spelled out.
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0, 0x17d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0, 0x17e,
  0x178,
];
const cp1252 = {
  decode: ([code]: Uint8Array) =>
    code >= 0x80 && code < 0xa0
      ? CP1252_HIGH[code - 0x80]
        ? String.fromCharCode(CP1252_HIGH[code - 0x80])
        : ''
      : String.fromCharCode(code),
};
const macRoman = new TextDecoder('macintosh');

/** WinAnsiEncoding is Windows code page 1252, with 0xA0 as a space (Annex D.2). */
export const winAnsiEncoding: BaseEncoding = (code) =>
  code < 0x20 ? '' : code === 0xa0 ? ' ' : cp1252.decode(Uint8Array.of(code));

/** MacRomanEncoding, the Mac OS Roman code page. */
export const macRomanEncoding: BaseEncoding = (code) =>
  code < 0x20 ? '' : macRoman.decode(Uint8Array.of(code));

// StandardEncoding's upper half, by code from 0xA1; '' where the code is undefined.
const STANDARD_HIGH: Record<number, string> = {};
{
  const names =
    'exclamdown cent sterling fraction yen florin section currency quotesingle quotedblleft guillemotleft ' +
    'guilsinglleft guilsinglright fi fl _ endash dagger daggerdbl periodcentered _ paragraph bullet ' +
    'quotesinglbase quotedblbase quotedblright guillemotright ellipsis perthousand _ questiondown _ grave ' +
    'acute circumflex tilde macron breve dotaccent dieresis _ ring cedilla _ hungarumlaut ogonek caron emdash';
  names.split(' ').forEach((n, i) => {
    if (n !== '_') STANDARD_HIGH[0xa1 + i] = n;
  });
  const tail: [number, string][] = [
    [0xe1, 'AE'],
    [0xe3, 'ordfeminine'],
    [0xe8, 'Lslash'],
    [0xe9, 'Oslash'],
    [0xea, 'OE'],
    [0xeb, 'ordmasculine'],
    [0xf1, 'ae'],
    [0xf5, 'dotlessi'],
    [0xf8, 'lslash'],
    [0xf9, 'oslash'],
    [0xfa, 'oe'],
    [0xfb, 'germandbls'],
  ];
  for (const [code, n] of tail) STANDARD_HIGH[code] = n;
}

/** StandardEncoding, Type 1 fonts' default: ASCII with typographic quotes, and its own upper half. */
export const standardEncoding: BaseEncoding = (code) => {
  if (code === 0x27) return '\u2019';
  if (code === 0x60) return '\u2018';
  if (code >= 0x20 && code < 0x7f) return String.fromCharCode(code);
  const n = STANDARD_HIGH[code];
  return n ? glyphNameToUnicode(n) : '';
};

// Glyph names of the Latin fonts PDFs use, to their code points: the names of Windows-1252's upper half
// in code order, then the ones Vietnamese and the standard encodings add.
const GLYPHS = new Map<string, string>();
{
  const ascii =
    'space exclam quotedbl numbersign dollar percent ampersand quotesingle parenleft parenright asterisk ' +
    'plus comma hyphen period slash zero one two three four five six seven eight nine colon semicolon less ' +
    'equal greater question at';
  ascii.split(' ').forEach((n, i) => {
    GLYPHS.set(n, String.fromCharCode(0x20 + i));
  });
  'bracketleft backslash bracketright asciicircum underscore grave'.split(' ').forEach((n, i) => {
    GLYPHS.set(n, String.fromCharCode(0x5b + i));
  });
  'braceleft bar braceright asciitilde'.split(' ').forEach((n, i) => {
    GLYPHS.set(n, String.fromCharCode(0x7b + i));
  });
  const win =
    'Euro _ quotesinglbase florin quotedblbase ellipsis dagger daggerdbl circumflex perthousand Scaron ' +
    'guilsinglleft OE _ Zcaron _ _ quoteleft quoteright quotedblleft quotedblright bullet endash emdash tilde ' +
    'trademark scaron guilsinglright oe _ zcaron Ydieresis nbspace exclamdown cent sterling currency yen ' +
    'brokenbar section dieresis copyright ordfeminine guillemotleft logicalnot sfthyphen registered macron ' +
    'degree plusminus twosuperior threesuperior acute mu paragraph periodcentered cedilla onesuperior ' +
    'ordmasculine guillemotright onequarter onehalf threequarters questiondown Agrave Aacute Acircumflex ' +
    'Atilde Adieresis Aring AE Ccedilla Egrave Eacute Ecircumflex Edieresis Igrave Iacute Icircumflex ' +
    'Idieresis Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply Oslash Ugrave Uacute ' +
    'Ucircumflex Udieresis Yacute Thorn germandbls agrave aacute acircumflex atilde adieresis aring ae ' +
    'ccedilla egrave eacute ecircumflex edieresis igrave iacute icircumflex idieresis eth ntilde ograve ' +
    'oacute ocircumflex otilde odieresis divide oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis';
  win.split(' ').forEach((n, i) => {
    if (n !== '_') GLYPHS.set(n, cp1252.decode(Uint8Array.of(0x80 + i)));
  });
  const extra: [string, number][] = [
    ['fi', 0xfb01],
    ['fl', 0xfb02],
    ['fraction', 0x2044],
    ['dotlessi', 0x131],
    ['Lslash', 0x141],
    ['lslash', 0x142],
    ['breve', 0x2d8],
    ['dotaccent', 0x2d9],
    ['ring', 0x2da],
    ['ogonek', 0x2db],
    ['hungarumlaut', 0x2dd],
    ['caron', 0x2c7],
    ['minus', 0x2212],
    ['Abreve', 0x102],
    ['abreve', 0x103],
    ['Dcroat', 0x110],
    ['dcroat', 0x111],
    ['Itilde', 0x128],
    ['itilde', 0x129],
    ['Utilde', 0x168],
    ['utilde', 0x169],
    ['Ohorn', 0x1a0],
    ['ohorn', 0x1a1],
    ['Uhorn', 0x1af],
    ['uhorn', 0x1b0],
    ['dotbelowcomb', 0x323],
    ['gravecomb', 0x300],
    ['acutecomb', 0x301],
    ['tildecomb', 0x303],
    ['hookabovecomb', 0x309],
  ];
  for (const [n, cp] of extra) GLYPHS.set(n, String.fromCodePoint(cp));
  // The soft hyphen is drawn as a hyphen.
  GLYPHS.set('sfthyphen', '-');
  GLYPHS.set('nbspace', ' ');
}

const UNI = /^uni((?:[0-9A-F]{4})+)$/;
const U = /^u([0-9A-F]{4,6})$/;

/** The text a glyph name stands for (AGL conventions: uniXXXX, uXXXX, ligatures with _, suffixes after .). */
export function glyphNameToUnicode(glyphName: string): string {
  const known = GLYPHS.get(glyphName);
  if (known !== undefined) return known;
  const base = glyphName.split('.')[0];
  if (base.includes('_')) return base.split('_').map(glyphNameToUnicode).join('');
  if (/^[A-Za-z]$/.test(base)) return base;
  const uni = UNI.exec(base);
  if (uni) {
    let out = '';
    for (let i = 0; i < uni[1].length; i += 4) {
      const v = Number.parseInt(uni[1].slice(i, i + 4), 16);
      // Surrogates in uniXXXX are not valid (AGL); they carry no text.
      if (v >= 0xd800 && v <= 0xdfff) return '';
      out += String.fromCharCode(v);
    }
    return out;
  }
  const u = U.exec(base);
  if (u) {
    const v = Number.parseInt(u[1], 16);
    if (v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) return String.fromCodePoint(v);
  }
  return base === glyphName ? (GLYPHS.get(base) ?? '') : glyphNameToUnicode(base);
}

// Advance widths of printable ASCII (0x20–0x7E) in the standard fonts, in 1/1000 em. Liberation Sans and
// Serif share them (they are metric-compatible), which the tests check.
const WIDTHS = {
  Helvetica:
    '278,278,355,556,556,889,667,191,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,556,556,278,278,584,584,584,556,1015,667,667,722,722,667,611,778,722,278,500,667,556,833,722,778,667,778,722,667,611,722,667,944,667,667,611,278,278,278,469,556,333,556,556,500,556,556,278,556,556,222,222,500,222,833,556,556,556,556,333,500,278,556,500,722,500,500,500,334,260,334,584',
  'Helvetica-Bold':
    '278,333,474,556,556,889,722,238,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,556,556,333,333,584,584,584,611,975,722,722,722,722,667,611,778,722,278,556,722,611,833,722,778,667,778,722,667,611,722,667,944,667,667,611,333,278,333,584,556,333,556,611,556,611,556,333,611,611,278,278,556,278,889,611,611,611,611,389,556,333,611,556,778,556,556,500,389,280,389,584',
  'Times-Roman':
    '250,333,408,500,500,833,778,180,333,333,500,564,250,333,250,278,500,500,500,500,500,500,500,500,500,500,278,278,564,564,564,444,921,722,667,667,722,611,556,722,722,333,389,722,611,889,722,722,556,722,667,556,611,722,722,944,722,722,611,333,278,333,469,500,333,444,500,444,500,444,333,500,500,278,278,500,278,778,500,500,500,500,333,389,278,500,500,722,500,500,444,480,200,480,541',
  'Times-Bold':
    '250,333,555,500,500,1000,833,278,333,333,500,570,250,333,250,278,500,500,500,500,500,500,500,500,500,500,333,333,570,570,570,500,930,722,667,722,722,667,611,778,778,389,500,778,667,944,722,778,611,778,722,556,667,722,722,1000,722,722,667,333,278,333,581,500,333,500,556,444,556,444,333,500,556,278,333,556,278,833,556,500,556,556,444,389,333,556,500,722,500,500,444,394,220,394,520',
} as const;
const WIDTH_TABLES = Object.fromEntries(
  Object.entries(WIDTHS).map(([k, v]) => [k, v.split(',').map(Number)]),
) as Record<keyof typeof WIDTHS, number[]>;

/** Metrics of a standard font or of the standard font closest to a font without widths. */
export interface StandardMetrics {
  /** Advance of a character in 1/1000 em; other than ASCII, by its base letter, else an average. */
  width(text: string): number;
  ascent: number;
  descent: number;
}

/** The standard-14 metrics nearest to a font name: Courier, Times or Helvetica, regular or bold. */
export function standardMetrics(baseFont: string, serif = false): StandardMetrics {
  const name = baseFont.replace(/^[A-Z]{6}\+/, '');
  const bold = /bold|black|heavy/i.test(name);
  if (/courier|mono/i.test(name)) return { width: () => 600, ascent: 629, descent: -157 };
  const times =
    /times|serif|roman/i.test(name.replace(/sans/gi, '')) || (serif && !/sans|arial|helvet/i.test(name));
  const table =
    WIDTH_TABLES[times ? (bold ? 'Times-Bold' : 'Times-Roman') : bold ? 'Helvetica-Bold' : 'Helvetica'];
  const average = times ? 500 : 556;
  return {
    width(text) {
      const base = text.normalize('NFD').charCodeAt(0);
      if (base >= 0x20 && base < 0x7f) return table[base - 0x20];
      if (/\s/.test(text)) return table[0];
      return average;
    },
    ascent: times ? 683 : 718,
    descent: times ? -217 : -207,
  };
}

/** Whether a /BaseFont names one of the standard 14 fonts (or a common alias), which may come without /Widths. */
export function isStandardFont(baseFont: string): boolean {
  return /^(Helvetica|Times|Courier|Arial|TimesNewRoman|CourierNew)([-,].*|PSMT|MT)?$/.test(baseFont);
}
