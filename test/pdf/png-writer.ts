import { deflateSync } from 'node:zlib';
import { crc32 } from '../../src/pdf/syntax/png.js';

// A small PNG encoder for tests, written from the PNG specification, so that the decoder is checked
// against files it did not make itself (each row can use any of the five filters).

/** What to encode: packed, unfiltered rows as PNG lays them out for the color type and depth. */
export interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  depth?: number;
  rows: Uint8Array;
  palette?: Uint8Array;
  trns?: Uint8Array;
  /** Filter type per row, cycling (default all 0). */
  filters?: number[];
  interlace?: boolean;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Encodes a PNG. */
export function writePng(spec: PngSpec): Uint8Array {
  const depth = spec.depth ?? 8;
  const bitsPerPixel = CHANNELS[spec.colorType] * depth;
  const rowBytes = Math.ceil((spec.width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const filters = spec.filters ?? [0];
  const raw = Buffer.alloc(spec.height * (rowBytes + 1));
  for (let r = 0; r < spec.height; r++) {
    const f = filters[r % filters.length];
    raw[r * (rowBytes + 1)] = f;
    for (let i = 0; i < rowBytes; i++) {
      const x = spec.rows[r * rowBytes + i];
      const a = i >= bpp ? spec.rows[r * rowBytes + i - bpp] : 0;
      const b = r > 0 ? spec.rows[(r - 1) * rowBytes + i] : 0;
      const c = r > 0 && i >= bpp ? spec.rows[(r - 1) * rowBytes + i - bpp] : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
      raw[r * (rowBytes + 1) + 1 + i] = (x - predicted) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(spec.width, 0);
  ihdr.writeUInt32BE(spec.height, 4);
  ihdr[8] = depth;
  ihdr[9] = spec.colorType;
  ihdr[12] = spec.interlace ? 1 : 0;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (spec.palette) parts.push(chunk('PLTE', spec.palette));
  if (spec.trns) parts.push(chunk('tRNS', spec.trns));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return new Uint8Array(Buffer.concat(parts));
}

/** An RGBA image of a signature-like wavy stroke in one colour on a transparent background. */
export function strokePng(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const rows = new Uint8Array(width * height * 4);
  for (let x = 0; x < width; x++) {
    const centre = height / 2 + (height / 3) * Math.sin((x / width) * 4 * Math.PI);
    for (let y = 0; y < height; y++) {
      const d = Math.abs(y - centre);
      if (d > 4) continue;
      const at = (y * width + x) * 4;
      rows.set(rgb, at);
      rows[at + 3] = d > 3 ? 128 : 255;
    }
  }
  return writePng({ width, height, colorType: 6, rows, filters: [0, 1, 2, 3, 4] });
}

/** An RGBA filled disc (a seal) in one colour on a transparent background. */
export function discPng(size: number, rgb: [number, number, number]): Uint8Array {
  const rows = new Uint8Array(size * size * 4);
  const r = size / 2;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if ((x + 0.5 - r) ** 2 + (y + 0.5 - r) ** 2 > r * r) continue;
      const at = (y * size + x) * 4;
      rows.set(rgb, at);
      rows[at + 3] = 255;
    }
  return writePng({ width: size, height: size, colorType: 6, rows, filters: [4] });
}
