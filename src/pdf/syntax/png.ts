import { inflateSync } from 'node:zlib';
import { PdfError } from '../errors.js';

// A PNG decoder for signature and seal images (Decree 30/2020 asks for transparent PNGs): it yields
// 8-bit samples and a separate alpha channel, which PDF draws through an /SMask.

/** A decoded image: 8-bit samples, gray or RGB, and alpha when the PNG has transparency. */
export interface DecodedImage {
  width: number;
  height: number;
  colorSpace: 'DeviceGray' | 'DeviceRGB';
  /** width × height × (1 or 3) bytes, rows top to bottom. */
  pixels: Uint8Array;
  /** width × height bytes, 0 transparent to 255 opaque; absent when every pixel is opaque. */
  alpha?: Uint8Array;
}

/** Bounds on what a PNG may make the decoder do. */
export interface PngLimits {
  /** Largest file (default 16 MiB). */
  maxBytes?: number;
  /** Widest and tallest image (default 8192). */
  maxDimension?: number;
  /** Most pixels (default 16,777,216: 64 MiB once decoded to RGBA). */
  maxPixels?: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_CHUNKS = 100_000;

/** Channels per color type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

function bad(message: string): never {
  throw new PdfError('bad-input', `PNG: ${message}`);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as PNG chunks use it (ISO 3309). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Decodes a non-interlaced PNG; PdfError when it is malformed, interlaced or over the limits. */
export function decodePng(png: Uint8Array, limits: PngLimits = {}): DecodedImage {
  const maxBytes = limits.maxBytes ?? 16 * 1024 * 1024;
  const maxDimension = limits.maxDimension ?? 8192;
  const maxPixels = limits.maxPixels ?? 16_777_216;
  if (png.length > maxBytes) throw new PdfError('limit', `PNG larger than ${maxBytes} bytes`);
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) bad('no PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.length);
  let pos = 8;
  let header: { width: number; height: number; depth: number; type: number } | undefined;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (let count = 0; ; count++) {
    if (count > MAX_CHUNKS) throw new PdfError('limit', 'PNG has too many chunks');
    if (pos + 12 > png.length) bad('truncated before IEND');
    const length = view.getUint32(pos);
    const type = Buffer.from(png.subarray(pos + 4, pos + 8)).toString('latin1');
    if (length > png.length - pos - 12) bad(`chunk ${type} runs past the end`);
    const data = png.subarray(pos + 8, pos + 8 + length);
    if (crc32(png.subarray(pos + 4, pos + 8 + length)) !== view.getUint32(pos + 8 + length))
      bad(`chunk ${type} has a bad CRC`);
    pos += 12 + length;
    if (count === 0 && type !== 'IHDR') bad('IHDR is not the first chunk');
    if (type === 'IHDR') {
      if (count !== 0 || length !== 13) bad('bad IHDR');
      const d = new DataView(data.buffer, data.byteOffset, 13);
      header = { width: d.getUint32(0), height: d.getUint32(4), depth: data[8], type: data[9] };
      if (data[10] !== 0 || data[11] !== 0) bad('unknown compression or filter method');
      if (data[12] !== 0)
        throw new PdfError(
          'unsupported',
          'interlaced (Adam7) PNGs are not supported: save it non-interlaced',
        );
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') trns = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    // Ancillary chunks (lower-case first letter) may be skipped; unknown critical ones may not.
    else if (!(type.charCodeAt(0) & 0x20)) bad(`unknown critical chunk ${type}`);
  }
  if (!header) bad('no IHDR');
  const { width, height, depth, type } = header;
  if (!(type in CHANNELS) || !DEPTHS[type].includes(depth)) bad(`bit depth ${depth} with color type ${type}`);
  if (width < 1 || height < 1) bad('empty image');
  if (width > maxDimension || height > maxDimension || width * height > maxPixels)
    throw new PdfError('limit', `PNG of ${width}×${height} exceeds the limits`);
  if (type === 3 && (!palette || palette.length % 3 !== 0 || palette.length === 0)) bad('missing PLTE');
  if (idat.length === 0) bad('no IDAT');

  const bitsPerPixel = CHANNELS[type] * depth;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  const expected = height * (rowBytes + 1);
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(Buffer.concat(idat), { maxOutputLength: expected }));
  } catch (e) {
    if (e instanceof RangeError) bad('image data larger than its dimensions');
    bad(`image data does not inflate: ${(e as Error).message}`);
  }
  if (raw.length !== expected) bad('image data shorter than its dimensions');
  const rows = unfilter(raw, height, rowBytes, Math.max(1, bitsPerPixel >> 3));
  return toSamples(rows, { width, height, depth, type, rowBytes }, palette, trns);
}

/** Reverses PNG's per-row filters (None, Sub, Up, Average, Paeth); PDF's predictors 10–15 are the same. */
export function unfilter(raw: Uint8Array, height: number, rowBytes: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * rowBytes);
  for (let r = 0; r < height; r++) {
    const filter = raw[r * (rowBytes + 1)];
    const src = r * (rowBytes + 1) + 1;
    const at = r * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const x = raw[src + i];
      const a = i >= bpp ? out[at + i - bpp] : 0;
      const b = r > 0 ? out[at - rowBytes + i] : 0;
      const c = r > 0 && i >= bpp ? out[at - rowBytes + i - bpp] : 0;
      let v: number;
      if (filter === 0) v = x;
      else if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else if (filter === 4) v = x + paeth(a, b, c);
      else bad(`unknown filter type ${filter}`);
      out[at + i] = v & 0xff;
    }
  }
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

/** Turns unfiltered rows into 8-bit color samples and alpha. */
function toSamples(
  rows: Uint8Array,
  h: { width: number; height: number; depth: number; type: number; rowBytes: number },
  palette: Uint8Array | undefined,
  trns: Uint8Array | undefined,
): DecodedImage {
  const { width, height, depth, type, rowBytes } = h;
  const gray = type === 0 || type === 4;
  const colors = gray ? 1 : 3;
  const pixels = new Uint8Array(width * height * colors);
  const alpha = new Uint8Array(width * height).fill(255);
  const channels = CHANNELS[type];
  const maxSample = (1 << Math.min(depth, 8)) - 1;
  // A sample at index i of a row, as read from the file (16-bit ones whole, for tRNS keys).
  const sample = (row: number, i: number): number => {
    const base = row * rowBytes;
    if (depth === 16) return (rows[base + 2 * i] << 8) | rows[base + 2 * i + 1];
    if (depth === 8) return rows[base + i];
    const bit = i * depth;
    return (rows[base + (bit >> 3)] >> (8 - depth - (bit & 7))) & maxSample;
  };
  // Scales a sample to 8 bits: 16-bit keeps the high byte, 1/2/4-bit gray is stretched.
  const to8 = (v: number) => (depth === 16 ? v >> 8 : depth < 8 ? Math.round((v * 255) / maxSample) : v);
  const key = (i: number) => (trns && trns.length >= 2 * (i + 1) ? (trns[2 * i] << 8) | trns[2 * i + 1] : -1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const s0 = sample(y, x * channels);
      if (type === 3) {
        if (3 * s0 + 2 >= palette!.length) bad('palette index out of range');
        pixels.set(palette!.subarray(3 * s0, 3 * s0 + 3), 3 * p);
        if (trns && s0 < trns.length) alpha[p] = trns[s0];
      } else if (gray) {
        pixels[p] = to8(s0);
        if (type === 4) alpha[p] = to8(sample(y, x * 2 + 1));
        else if (s0 === key(0)) alpha[p] = 0;
      } else {
        const s1 = sample(y, x * channels + 1);
        const s2 = sample(y, x * channels + 2);
        pixels[3 * p] = to8(s0);
        pixels[3 * p + 1] = to8(s1);
        pixels[3 * p + 2] = to8(s2);
        if (type === 6) alpha[p] = to8(sample(y, x * 4 + 3));
        else if (s0 === key(0) && s1 === key(1) && s2 === key(2)) alpha[p] = 0;
      }
    }
  }
  const opaque = alpha.every((a) => a === 255);
  return {
    width,
    height,
    colorSpace: gray ? 'DeviceGray' : 'DeviceRGB',
    pixels,
    alpha: opaque ? undefined : alpha,
  };
}
