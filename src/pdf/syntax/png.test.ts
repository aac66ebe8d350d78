import { describe, expect, it } from 'vitest';
import { writePng } from '../../../test/pdf/png-writer.js';
import { PdfError } from '../errors.js';
import { crc32, decodePng } from './png.js';

/** A deterministic pseudo-random byte run, so every filter has something to predict. */
const noise = (length: number, seed = 7) => {
  const out = new Uint8Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out[i] = s >> 16;
  }
  return out;
};

describe('PNG decoding', () => {
  for (const filter of [0, 1, 2, 3, 4]) {
    it(`decodes RGBA rows with filter ${filter}`, () => {
      const rows = noise(5 * 4 * 4);
      const img = decodePng(writePng({ width: 5, height: 4, colorType: 6, rows, filters: [filter] }));
      expect(img).toMatchObject({ width: 5, height: 4, colorSpace: 'DeviceRGB' });
      for (let p = 0; p < 20; p++) {
        expect([...img.pixels.subarray(3 * p, 3 * p + 3)]).toEqual([...rows.subarray(4 * p, 4 * p + 3)]);
        expect(img.alpha![p]).toBe(rows[4 * p + 3]);
      }
    });
  }

  it('decodes rows that mix all five filters', () => {
    const rows = noise(7 * 6 * 3, 3);
    const img = decodePng(writePng({ width: 7, height: 6, colorType: 2, rows, filters: [4, 3, 2, 1, 0] }));
    expect([...img.pixels]).toEqual([...rows]);
    expect(img.alpha).toBeUndefined();
  });

  it('decodes gray, gray with alpha, and 16-bit gray (high byte kept)', () => {
    const gray = decodePng(writePng({ width: 3, height: 1, colorType: 0, rows: Uint8Array.of(0, 128, 255) }));
    expect(gray).toMatchObject({ colorSpace: 'DeviceGray', alpha: undefined });
    expect([...gray.pixels]).toEqual([0, 128, 255]);
    const ga = decodePng(
      writePng({ width: 2, height: 1, colorType: 4, rows: Uint8Array.of(10, 0, 20, 255), filters: [1] }),
    );
    expect([...ga.pixels]).toEqual([10, 20]);
    expect([...ga.alpha!]).toEqual([0, 255]);
    const deep = decodePng(
      writePng({ width: 2, height: 1, colorType: 0, depth: 16, rows: Uint8Array.of(0x12, 0x34, 0xfe, 0xdc) }),
    );
    expect([...deep.pixels]).toEqual([0x12, 0xfe]);
  });

  it('honours tRNS: a colour key for RGB and gray, alpha per entry for a palette', () => {
    const rgb = decodePng(
      writePng({
        width: 2,
        height: 1,
        colorType: 2,
        rows: Uint8Array.of(255, 255, 255, 0, 0, 200),
        trns: Uint8Array.of(0, 255, 0, 255, 0, 255),
      }),
    );
    expect([...rgb.alpha!]).toEqual([0, 255]);
    const gray = decodePng(
      writePng({ width: 2, height: 1, colorType: 0, rows: Uint8Array.of(7, 8), trns: Uint8Array.of(0, 8) }),
    );
    expect([...gray.alpha!]).toEqual([255, 0]);
    const palette = Uint8Array.of(255, 0, 0, 0, 0, 255);
    const pal = decodePng(
      writePng({
        width: 3,
        height: 1,
        colorType: 3,
        rows: Uint8Array.of(0, 1, 0),
        palette,
        trns: Uint8Array.of(0),
      }),
    );
    expect([...pal.pixels]).toEqual([255, 0, 0, 0, 0, 255, 255, 0, 0]);
    expect([...pal.alpha!]).toEqual([0, 255, 0]);
  });

  it('unpacks 1-, 2- and 4-bit palette and gray samples', () => {
    const palette = new Uint8Array(16 * 3).map((_, i) => i);
    // 1 bit: 0b10110000 → indices 1 0 1 1 0.
    const one = decodePng(
      writePng({ width: 5, height: 1, colorType: 3, depth: 1, rows: Uint8Array.of(0xb0), palette }),
    );
    expect([...one.pixels].filter((_, i) => i % 3 === 0)).toEqual([3, 0, 3, 3, 0]);
    const two = decodePng(
      writePng({ width: 3, height: 1, colorType: 3, depth: 2, rows: Uint8Array.of(0b11011000), palette }),
    );
    expect([...two.pixels].filter((_, i) => i % 3 === 0)).toEqual([9, 3, 6]);
    const four = decodePng(
      writePng({
        width: 3,
        height: 2,
        colorType: 3,
        depth: 4,
        rows: Uint8Array.of(0xf1, 0x20, 0x34, 0x50),
        palette,
        filters: [2],
      }),
    );
    expect([...four.pixels].filter((_, i) => i % 3 === 0)).toEqual([45, 3, 6, 9, 12, 15]);
    const gray2 = decodePng(
      writePng({ width: 4, height: 1, colorType: 0, depth: 2, rows: Uint8Array.of(0b00011011) }),
    );
    expect([...gray2.pixels]).toEqual([0, 85, 170, 255]);
  });

  it('refuses Adam7, a bad CRC, a truncated file, odd depths, a missing palette and oversized images', () => {
    const rows = noise(4 * 4 * 4);
    const good = writePng({ width: 4, height: 4, colorType: 6, rows });
    expect(() => decodePng(writePng({ width: 4, height: 4, colorType: 6, rows, interlace: true }))).toThrow(
      expect.objectContaining({ code: 'unsupported', message: expect.stringContaining('Adam7') }),
    );
    const corrupt = Uint8Array.from(good);
    corrupt[20] ^= 1;
    expect(() => decodePng(corrupt)).toThrow('bad CRC');
    expect(() => decodePng(good.subarray(0, good.length - 20))).toThrow(/truncated|past the end/);
    expect(() => decodePng(new Uint8Array(40))).toThrow('no PNG signature');
    expect(() => decodePng(writePng({ width: 4, height: 4, colorType: 6, depth: 4, rows }))).toThrow(
      'bit depth',
    );
    expect(() => decodePng(writePng({ width: 1, height: 1, colorType: 3, rows: Uint8Array.of(0) }))).toThrow(
      'missing PLTE',
    );
    expect(() => decodePng(good, { maxDimension: 3 })).toThrow(expect.objectContaining({ code: 'limit' }));
    expect(() => decodePng(good, { maxBytes: 10 })).toThrow(expect.objectContaining({ code: 'limit' }));
    // Data for more rows than the header declares: inflation stops at the declared size.
    const big = writePng({ width: 4, height: 64, colorType: 6, rows: noise(4 * 64 * 4) });
    const patched = Buffer.from(big);
    patched.writeUInt32BE(4, 20);
    // Re-sign the IHDR so only the size lie remains.
    patched.writeUInt32BE(crc32(patched.subarray(12, 29)), 29);
    expect(() => decodePng(patched)).toThrow('larger than its dimensions');
  });

  it('fails closed on corrupted files: a PdfError or an image, never another exception', () => {
    const good = writePng({
      width: 6,
      height: 5,
      colorType: 3,
      depth: 4,
      rows: noise(15),
      palette: noise(48),
    });
    const bytes = noise(4000, 5);
    for (let i = 0; i < 1000; i++) {
      const png = Uint8Array.from(good);
      png[8 + (bytes[i] % (png.length - 8))] = bytes[i + 1];
      // Re-sign every chunk so the corruption reaches the decoder instead of the CRC check.
      for (let at = 8; at + 12 <= png.length; ) {
        const view = new DataView(png.buffer);
        const length = view.getUint32(at);
        if (at + 12 + length > png.length) break;
        view.setUint32(at + 8 + length, crc32(png.subarray(at + 4, at + 8 + length)));
        at += 12 + length;
      }
      try {
        decodePng(png);
      } catch (e) {
        expect(e).toBeInstanceOf(PdfError);
      }
    }
  });
});
