import { type SignatureAlgorithm, signatureAlgorithmIdentifier } from './algorithms.js';
import type { SignFunction } from './certificate.js';
import {
  bitString,
  bytesOf,
  children,
  contentOf,
  decodeDer,
  expectTag,
  explicit,
  integer,
  lengthSize,
  readInteger,
  readSmallInt,
  readTime,
  TAG,
  type Tlv,
  time,
  tlvSize,
  writeHeader,
  writeTime,
} from './der.js';
import { PkiError, withCode } from './errors.js';
import {
  distributionPoint,
  type Extension,
  encodeExtensions,
  ext,
  readAuthorityKeyId,
  readExtensions,
} from './extensions.js';
import { OID } from './oids.js';
import { REVOCATION_REASON_CODES, type RevocationReason, reasonFromCode } from './revocation.js';
import { MAX_SERIAL_BYTES, serialToHex } from './serial.js';
import { readExplicitExtensions, readSigned } from './signed.js';

/** One revoked certificate. Reason 'unspecified' or none writes no reasonCode (RFC 5280 §5.3.1). */
export interface CrlEntry {
  serial: Uint8Array;
  revokedAt: Date;
  reason?: RevocationReason;
}

/** What the CA decides for a CRL; buildCrl encodes and signs it. */
export interface CrlTemplate {
  /** The issuer Name DER, copied from the CA certificate's subject. */
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  number: bigint;
  /** Set for a delta CRL: the number of the base CRL (critical deltaCRLIndicator). */
  deltaBase?: bigint;
  signatureAlgorithm: SignatureAlgorithm;
  authorityKeyId: Uint8Array;
  /** Written as a critical issuingDistributionPoint with this fullName URI. */
  distributionPoint?: string;
  /** Where delta CRLs are (freshestCRL), on full CRLs only. */
  freshestCrl?: string;
}

const CHUNK_BYTES = 4 * 1024 * 1024;
// serial (2 + 20) + GeneralizedTime (17) + reasonCode extensions (14), inside a 2-byte header.
const MAX_ENTRY_BYTES = 2 + 22 + 17 + 14;
const PROGRESS_EVERY = 10_000;

// Extensions SEQUENCE { Extension { reasonCode, OCTET STRING { ENUMERATED code } } }, one per reason.
const REASON_EXTENSIONS = new Map<RevocationReason, Uint8Array>(
  (Object.entries(REVOCATION_REASON_CODES) as [RevocationReason, number][])
    .filter(([r]) => r !== 'unspecified')
    .map(([r, code]) => [
      r,
      Uint8Array.of(0x30, 12, 0x30, 10, 0x06, 3, 0x55, 0x1d, 0x15, 0x04, 3, 0x0a, 1, code),
    ]),
);

/** Chunked writer for revokedCertificates: large preallocated buffers, no object per entry. */
class EntryWriter {
  readonly chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  length = 0;
  count = 0;
  private lastSecond = Number.NaN;
  private readonly lastTime = new Uint8Array(17);
  private lastTimeLength = 0;

  constructor(private readonly delta: boolean) {}

  add(e: CrlEntry): void {
    if (this.pos + MAX_ENTRY_BYTES > CHUNK_BYTES) this.flush();
    const serial = e.serial;
    let skip = 0;
    while (skip < serial.length && serial[skip] === 0) skip++;
    const serialLength = serial.length - skip;
    if (serialLength === 0) throw new PkiError('bad-serial', 'a serial number must be positive');
    const pad = serial[skip] & 0x80 ? 1 : 0;
    if (serialLength + pad > MAX_SERIAL_BYTES)
      throw new PkiError(
        'bad-serial',
        `serial number of ${serialLength + pad} bytes exceeds ${MAX_SERIAL_BYTES}`,
      );
    let reasonExtension: Uint8Array | undefined;
    if (e.reason !== undefined && e.reason !== 'unspecified') {
      reasonExtension = REASON_EXTENSIONS.get(e.reason);
      if (!reasonExtension) throw new PkiError('bad-reason', `unknown revocation reason ${e.reason}`);
      if (e.reason === 'removeFromCRL' && !this.delta)
        throw new PkiError('bad-reason', 'removeFromCRL belongs only in delta CRLs');
    }
    // Revocation times repeat within a second in bulk revocations: reuse the encoding.
    const ms = e.revokedAt.getTime();
    const second = Math.floor(ms / 1000);
    if (second !== this.lastSecond) {
      this.lastTimeLength = writeTime(this.lastTime, 0, ms);
      this.lastSecond = second;
    }
    const bodyLength = 2 + serialLength + pad + this.lastTimeLength + (reasonExtension?.length ?? 0);
    const c = this.chunk;
    let p = this.pos;
    c[p++] = TAG.sequence;
    c[p++] = bodyLength;
    c[p++] = TAG.integer;
    c[p++] = serialLength + pad;
    if (pad) c[p++] = 0;
    c.set(skip ? serial.subarray(skip) : serial, p);
    p += serialLength;
    c.set(this.lastTimeLength === 17 ? this.lastTime : this.lastTime.subarray(0, this.lastTimeLength), p);
    p += this.lastTimeLength;
    if (reasonExtension) {
      c.set(reasonExtension, p);
      p += reasonExtension.length;
    }
    this.length += p - this.pos;
    this.pos = p;
    this.count++;
  }

  flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.chunk.subarray(0, this.pos));
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.pos = 0;
  }
}

function crlExtensions(t: CrlTemplate): Extension[] {
  const list: Extension[] = [
    ext.authorityKeyIdentifier(t.authorityKeyId),
    { oid: OID.crlNumber, critical: false, value: integer(t.number) },
  ];
  if (t.deltaBase !== undefined)
    list.push({ oid: OID.deltaCrlIndicator, critical: true, value: integer(t.deltaBase) });
  if (t.distributionPoint !== undefined)
    list.push({
      oid: OID.issuingDistributionPoint,
      critical: true,
      value: distributionPoint([t.distributionPoint]),
    });
  if (t.freshestCrl !== undefined && t.deltaBase === undefined) list.push(ext.freshestCrl([t.freshestCrl]));
  return list;
}

function isAsync<T>(x: Iterable<T> | AsyncIterable<T>): x is AsyncIterable<T> {
  return typeof (x as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
}

/** Builds and signs a v2 CRL; entries are streamed into large chunks, so a million entries take seconds. */
export async function buildCrl(
  t: CrlTemplate,
  entries: Iterable<CrlEntry> | AsyncIterable<CrlEntry>,
  sign: SignFunction,
  onProgress?: (done: number) => void,
): Promise<Uint8Array> {
  if (!(t.thisUpdate.getTime() < t.nextUpdate.getTime()))
    throw new PkiError('bad-validity', 'nextUpdate must be after thisUpdate');
  if (t.number < 0n || (t.deltaBase !== undefined && (t.deltaBase < 0n || t.deltaBase >= t.number)))
    throw new PkiError(
      'bad-crl-number',
      'CRL numbers must be non-negative and a delta base below the CRL number',
    );
  withCode('bad-name', 'issuer', () => expectTag(decodeDer(t.issuer, 16 * 1024), TAG.sequence, 'issuer'));
  const algId = signatureAlgorithmIdentifier(t.signatureAlgorithm);
  const extensions = explicit(0, encodeExtensions(crlExtensions(t)));

  const w = new EntryWriter(t.deltaBase !== undefined);
  const tick = () => {
    if (onProgress && w.count % PROGRESS_EVERY === 0) onProgress(w.count);
  };
  if (isAsync(entries))
    for await (const e of entries) {
      w.add(e);
      tick();
    }
  else
    for (const e of entries) {
      w.add(e);
      tick();
    }
  w.flush();
  onProgress?.(w.count);

  const head = [Uint8Array.of(TAG.integer, 1, 1), algId, t.issuer, time(t.thisUpdate), time(t.nextUpdate)];
  const headLength = head.reduce((n, p) => n + p.length, 0);
  const revokedLength = w.count > 0 ? tlvSize(w.length) : 0;
  const tbsBody = headLength + revokedLength + extensions.length;
  const tbsLength = tlvSize(tbsBody);

  // One buffer holds the final CRL: the TBS sits after room for the outer header, and the
  // algorithm and signature follow it once signed, so the big entry list is copied once.
  const outerHeaderMax = 1 + lengthSize(2 ** 32 - 1);
  // Unpooled, so the returned view never shares memory with unrelated buffers.
  const out = Buffer.allocUnsafeSlow(outerHeaderMax + tbsLength + algId.length + 4096);
  let p = writeHeader(out, outerHeaderMax, TAG.sequence, tbsBody);
  for (const part of head) {
    out.set(part, p);
    p += part.length;
  }
  if (w.count > 0) {
    p = writeHeader(out, p, TAG.sequence, w.length);
    for (const c of w.chunks) {
      out.set(c, p);
      p += c.length;
    }
    w.chunks.length = 0;
  }
  out.set(extensions, p);
  p += extensions.length;
  const tbs = out.subarray(outerHeaderMax, p);
  const signature = bitString(await sign(tbs));
  if (p + algId.length + signature.length > out.length)
    throw new PkiError('bad-signature', 'the signature is implausibly long');
  out.set(algId, p);
  p += algId.length;
  out.set(signature, p);
  p += signature.length;
  const bodyLength = p - outerHeaderMax;
  const start = outerHeaderMax - (1 + lengthSize(bodyLength));
  writeHeader(out, start, TAG.sequence, bodyLength);
  return new Uint8Array(out.buffer, out.byteOffset + start, p - start);
}

/** A CRL's fields, read from its DER. */
export interface ParsedCrl {
  der: Uint8Array;
  tbs: Uint8Array;
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
  number?: bigint;
  deltaBase?: bigint;
  thisUpdate: Date;
  nextUpdate?: Date;
  issuerDer: Uint8Array;
  authorityKeyId?: Uint8Array;
  extensions: Extension[];
  /** Revoked certificates; `extensions` only when an entry has more than a reason code (e.g. certificateIssuer). */
  entries: { serialHex: string; revokedAt: Date; reason?: RevocationReason; extensions?: Extension[] }[];
}

const MAX_CRL_BYTES = 512 * 1024 * 1024;

function readCrlInteger(value: Uint8Array, what: string): bigint {
  return readInteger(contentOf(value, expectTag(decodeDer(value, value.length), TAG.integer, what)));
}

/** Parses a CRL DER (bounded: 512 MiB by default); PkiError('malformed-crl') if it is not one. */
export function parseCrl(der: Uint8Array, maxBytes = MAX_CRL_BYTES): ParsedCrl {
  return withCode('malformed-crl', 'CRL', () => {
    const signed = readSigned(der, maxBytes, 'CertificateList', 'TBSCertList');
    const { tbsT, fields: f, signatureAlgorithm } = signed;
    let i = 0;
    if (f[i]?.tag === TAG.integer && readSmallInt(contentOf(der, f[i++])) !== 1)
      throw new PkiError('malformed-der', 'unknown CRL version');
    signed.checkAlgorithm(f[i++]);
    const issuerDer = bytesOf(der, expectTag(f[i++], TAG.sequence, 'issuer'));
    const isTime = (x: Tlv | undefined) => x?.tag === TAG.utcTime || x?.tag === TAG.generalizedTime;
    if (!isTime(f[i])) throw new PkiError('malformed-der', 'thisUpdate: missing');
    const thisUpdate = readTime(der, f[i++]);
    const nextUpdate = isTime(f[i]) ? readTime(der, f[i++]) : undefined;
    const entries: ParsedCrl['entries'] = [];
    if (f[i]?.tag === TAG.sequence) {
      for (const e of children(der, f[i++])) {
        const [serialT, dateT, extsT, more] = children(der, expectTag(e, TAG.sequence, 'revokedCertificate'));
        if (more || !isTime(dateT)) throw new PkiError('malformed-der', 'bad revokedCertificate');
        const entry: ParsedCrl['entries'][number] = {
          serialHex: serialToHex(contentOf(der, expectTag(serialT, TAG.integer, 'userCertificate'))),
          revokedAt: readTime(der, dateT),
        };
        if (extsT) {
          const extensions = readExtensions(der, extsT);
          // Kept only beyond a reason code (e.g. certificateIssuer): a million-entry CRL stays lean.
          if (extensions.some((x) => x.oid !== OID.crlReason)) entry.extensions = extensions;
          const reason = extensions.find((x) => x.oid === OID.crlReason)?.value;
          if (reason) {
            const code = readSmallInt(
              contentOf(reason, expectTag(decodeDer(reason, 8), TAG.enumerated, 'reasonCode')),
            );
            entry.reason = reasonFromCode(code);
            if (!entry.reason) throw new PkiError('malformed-der', `unknown reason code ${code}`);
          }
        }
        entries.push(entry);
      }
    }
    let extensions: Extension[] = [];
    if (f[i]?.tag === 0xa0) extensions = readExplicitExtensions(der, f[i++], 'crlExtensions');
    if (i !== f.length) throw new PkiError('malformed-der', 'unexpected fields in TBSCertList');
    const find = (id: string) => extensions.find((x) => x.oid === id)?.value;
    const numberExt = find(OID.crlNumber);
    const deltaExt = find(OID.deltaCrlIndicator);
    const aki = find(OID.authorityKeyIdentifier);
    return {
      der,
      tbs: bytesOf(der, tbsT),
      signatureAlgorithm,
      signature: signed.signature,
      number: numberExt && readCrlInteger(numberExt, 'cRLNumber'),
      deltaBase: deltaExt && readCrlInteger(deltaExt, 'deltaCRLIndicator'),
      thisUpdate,
      nextUpdate,
      issuerDer,
      authorityKeyId: aki && readAuthorityKeyId(aki),
      extensions,
      entries,
    };
  });
}
