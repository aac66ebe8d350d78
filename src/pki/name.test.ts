import { describe, expect, it } from 'vitest';
import { children, contentOf, decodeDer, oid, sequence, setOf, TAG, tlv } from './der.js';
import { PkiError } from './errors.js';
import { decodeName, encodeName, formatName, parseName } from './name.js';

function error(f: () => unknown): PkiError {
  try {
    f();
  } catch (e) {
    if (e instanceof PkiError) return e;
    throw e;
  }
  throw new Error('expected a PkiError');
}

/** The string tags of each attribute value in a Name DER. */
function valueTags(der: Uint8Array): number[] {
  return children(der, decodeDer(der, 10_000)).map((rdn) => {
    const [atv] = children(der, rdn);
    return children(der, atv)[1].tag;
  });
}

describe('parseName', () => {
  it('reads the OpenSSL -subj form in encoding order', () => {
    expect(
      parseName('/C=VN/L=Hà Nội/O=UBND tỉnh Hà Giang/OU=Sở Nội vụ/CN=Nguyễn Văn A/E=a@hagiang.gov.vn'),
    ).toEqual([
      { type: 'C', value: 'VN' },
      { type: 'L', value: 'Hà Nội' },
      { type: 'O', value: 'UBND tỉnh Hà Giang' },
      { type: 'OU', value: 'Sở Nội vụ' },
      { type: 'CN', value: 'Nguyễn Văn A' },
      { type: 'E', value: 'a@hagiang.gov.vn' },
    ]);
  });

  it('reads comma-separated names in encoding order', () => {
    expect(formatName(parseName('C=VN, O=Ban Cơ yếu Chính phủ, CN=RootCA chuyên dùng Chính phủ G2'))).toBe(
      'C=VN, O=Ban Cơ yếu Chính phủ, CN=RootCA chuyên dùng Chính phủ G2',
    );
  });

  it('reverses RFC 4514 order (most specific first, ending in C=)', () => {
    expect(parseName('CN=CỤC THUẾ, O=BỘ TÀI CHÍNH, L=Hà Nội, C=VN').map((a) => a.type)).toEqual([
      'C',
      'L',
      'O',
      'CN',
    ]);
  });

  it('resolves escapes, aliases, lower case and dotted OIDs', () => {
    expect(
      parseName('c=vn, o=Công ty A\\, B và C, cn=x\\+y\\=z, emailAddress=a@b.vn, 2.5.4.9=Số 1 Tràng Tiền'),
    ).toEqual([
      { type: 'C', value: 'VN' },
      { type: 'O', value: 'Công ty A, B và C' },
      { type: 'CN', value: 'x+y=z' },
      { type: 'E', value: 'a@b.vn' },
      { type: '2.5.4.9', value: 'Số 1 Tràng Tiền' },
    ]);
    expect(parseName('CN=\\C3\\A0 b')[0].value).toBe('à b');
    expect(parseName('/O=A\\/B/CN=x')[1]).toEqual({ type: 'CN', value: 'x' });
    expect(parseName('/O=A\\/B/CN=x')[0].value).toBe('A/B');
  });

  it('normalizes decomposed Vietnamese to NFC', () => {
    expect(parseName('CN=Nguye\u0302\u0303n')[0].value).toBe('Nguyễn');
  });

  it.each([
    ['CN=a\u0000b', 'control-characters'],
    ['CN=a\nb', 'control-characters'],
    ['CN=a\u0085b', 'control-characters'],
    ['CN=\\0A', 'control-characters'],
    ['', 'bad-name'],
    ['CN=', 'bad-name'],
    ['C=VN, CN= ', 'bad-name'],
    ['FOO=bar', 'bad-name'],
    ['C=VNM', 'bad-name'],
    ['C=V1', 'bad-name'],
    ['CN', 'bad-name'],
    ['CN=a+OU=b', 'bad-name'],
    [`CN=${'a'.repeat(129)}`, 'bad-name'],
    [`E=${'a'.repeat(251)}@b.vn`, 'bad-name'],
    ['E=nguyễn@x.vn', 'bad-name'],
    ['SERIALNUMBER=a_b', 'bad-name'],
  ])('refuses %j with %s', (text, code) => {
    const e = error(() => parseName(text));
    expect(e.code).toBe(code);
    expect(e.message.length).toBeGreaterThan(5);
  });

  it('allows 128-character values and long e-mail addresses', () => {
    expect(parseName(`CN=${'ễ'.repeat(128)}`)[0].value).toHaveLength(128);
    expect(parseName(`E=${'a'.repeat(240)}@b.vn`)[0].value).toHaveLength(245);
  });
});

describe('formatName', () => {
  it('escapes special characters so the text parses back', () => {
    const dn = [
      { type: 'C', value: 'VN' },
      { type: 'O', value: 'A, B + C = D \\ E' },
      { type: 'CN', value: ' #lead and trail ' },
    ];
    const text = formatName(dn);
    expect(text).toBe('C=VN, O=A\\, B \\+ C \\= D \\\\ E, CN=\\ #lead and trail\\ ');
    expect(parseName(text)).toEqual(dn);
  });

  it('shows control characters from foreign names as hex', () => {
    expect(formatName([{ type: 'CN', value: 'a\nb' }])).toBe('CN=a\\0Ab');
  });
});

describe('encodeName / decodeName', () => {
  it('uses PrintableString for C and SERIALNUMBER, IA5String for E and DC, UTF8String otherwise', () => {
    const der = encodeName(
      parseName(
        '/C=VN/ST=Hà Giang/O=UBND tỉnh Hà Giang/CN=Nguyễn Văn A/SERIALNUMBER=CMND:0123/E=a@b.vn/DC=vn/UID=MST:01',
      ),
    );
    expect(valueTags(der)).toEqual([
      TAG.printableString,
      TAG.utf8String,
      TAG.utf8String,
      TAG.utf8String,
      TAG.printableString,
      TAG.ia5String,
      TAG.ia5String,
      TAG.utf8String,
    ]);
    expect(formatName(decodeName(der))).toBe(
      'C=VN, ST=Hà Giang, O=UBND tỉnh Hà Giang, CN=Nguyễn Văn A, SERIALNUMBER=CMND:0123, E=a@b.vn, DC=vn, UID=MST:01',
    );
  });

  it('reads TeletexString, BMPString, multi-valued RDNs and unknown value types', () => {
    const atv = (id: string, value: Uint8Array) => sequence(oid(id), value);
    const der = sequence(
      setOf([atv('2.5.4.6', tlv(TAG.printableString, Buffer.from('VN')))]),
      setOf([atv('2.5.4.10', tlv(TAG.teletexString, Buffer.from('Caf\xe9', 'latin1')))]),
      setOf([atv('2.5.4.11', tlv(TAG.bmpString, Buffer.from('Hà Nội', 'utf16le').swap16()))]),
      setOf([
        atv('2.5.4.3', tlv(TAG.utf8String, Buffer.from('a'))),
        atv('2.5.4.5', tlv(TAG.printableString, Buffer.from('7'))),
      ]),
      setOf([atv('1.2.3.4', tlv(TAG.octetString, Uint8Array.of(1, 2)))]),
    );
    expect(decodeName(der)).toEqual([
      { type: 'C', value: 'VN' },
      { type: 'O', value: 'Café' },
      { type: 'OU', value: 'Hà Nội' },
      { type: 'CN', value: 'a' },
      { type: 'SERIALNUMBER', value: '7' },
      { type: '1.2.3.4', value: '#04020102' },
    ]);
  });

  it('refuses malformed names', () => {
    expect(error(() => decodeName(Uint8Array.of(0x30, 0x02, 0x31, 0x00))).code).toBe('bad-name');
    const badUtf8 = sequence(setOf([sequence(oid('2.5.4.3'), tlv(TAG.utf8String, Uint8Array.of(0xc3)))]));
    expect(error(() => decodeName(badUtf8)).code).toBe('bad-name');
  });

  it('checks attributes passed to encodeName directly', () => {
    expect(error(() => encodeName([{ type: 'CN', value: 'a\u0007' }])).code).toBe('control-characters');
    const der = encodeName([{ type: '2.5.4.3', value: 'x' }]);
    const [rdn] = children(der, decodeDer(der, 100));
    const [a] = children(der, rdn);
    expect(contentOf(der, children(der, a)[0])).toEqual(oid('2.5.4.3').subarray(2));
  });
});
