import { createHash } from 'node:crypto';
import type { CertificateAuthority } from '../ca/index.js';
import type { Signer } from '../keys/index.js';
import {
  buildOcspResponse,
  type CertIdHash,
  issuerHashes,
  keyIdentifier,
  type OcspCertId,
  type OcspCertStatus,
  ocspErrorResponse,
  PkiError,
  parseCertificate,
  parseOcspRequest,
  parseOcspResponse,
  type RevocationReason,
  type SignatureAlgorithm,
} from '../pki/index.js';

/** What the responder answers: the DER body and, for a cacheable answer, its freshness. */
export interface OcspAnswer {
  der: Uint8Array;
  /** True for a nonce-less answer about one certificate: HTTP caches may keep it. */
  cacheable: boolean;
  thisUpdate?: Date;
  nextUpdate?: Date;
  etag?: string;
  cache: 'hit' | 'miss' | 'none';
  status: 'successful' | 'malformedRequest' | 'unauthorized' | 'internalError';
}

/** How one CA's certificates are answered for: which key signs, and with which certificate attached. */
interface Responder {
  caId: string;
  signer: Promise<Signer>;
  algorithm: SignatureAlgorithm;
  responderKeyId: Uint8Array;
  certs: Uint8Array[];
}

interface Cached {
  der: Buffer;
  serial: string;
  thisUpdate: Date;
  nextUpdate: Date;
  refreshAt: number;
  etag: string;
  /** The answer to a cache hit, built once for all hits. */
  hit: OcspAnswer;
}

export interface OcspResponderOptions {
  /** How long a response is valid (nextUpdate − thisUpdate). RFC 5019 caches live by it. */
  validityHours: number;
  /** Pre-signed responses kept in memory; the oldest are dropped past this. */
  maxCached: number;
  /** Told how long each signature took (for the signing-latency metric). */
  onSigned?: (seconds: number) => void;
}

const HASHES: CertIdHash[] = ['sha1', 'sha256', 'sha384', 'sha512'];
// A nonce-less request for one certificate is about 100 bytes; larger ones are not remembered.
const MAX_MEMO_REQUEST = 512;
const HOUR = 3_600_000;

/**
 * The OCSP responder (RFC 6960, RFC 5019 profile). A nonce-less question about one certificate
 * is answered from a pre-signed response, kept in memory and in the database until half its
 * validity has passed; a revocation, hold or release replaces it at once. Questions with a
 * nonce or about several certificates are signed fresh.
 */
export class OcspResponder {
  private readonly issuers = new Map<string, Responder>();
  private readonly cache = new Map<string, Cached>();
  private readonly bySerial = new Map<string, Set<string>>();
  // Request bytes (latin1) → cache key, for nonce-less single questions already parsed once: clients
  // repeat the same bytes, and parsing costs more than the rest of a hit.
  private readonly byRequest = new Map<string, string>();

  private constructor(
    private readonly authority: CertificateAuthority,
    private readonly options: OcspResponderOptions,
  ) {}

  /** Sets up a responder for every CA of the authority and subscribes to status changes. */
  static async open(authority: CertificateAuthority, options: OcspResponderOptions): Promise<OcspResponder> {
    const responder = new OcspResponder(authority, options);
    for (const [key, r] of await responder.load()) responder.issuers.set(key, r);
    authority.onStatusChange((c) => responder.forget(c.serial));
    return responder;
  }

  /**
   * Answers with what the database now says about the CAs and the delegated responder (a new
   * CA, a new OCSP certificate): the new keys are loaded first, then swapped in, and what was
   * signed before is forgotten.
   */
  async reload(): Promise<void> {
    const issuers = await this.load();
    await Promise.all([...new Set(issuers.values())].map((r) => r.signer));
    this.issuers.clear();
    for (const [key, r] of issuers) this.issuers.set(key, r);
    this.cache.clear();
    this.bySerial.clear();
    this.byRequest.clear();
  }

  // Which key answers for each CA, by the issuer hashes a request may name.
  private async load(): Promise<Map<string, Responder>> {
    const authority = this.authority;
    const issuers = new Map<string, Responder>();
    const delegated = await authority.store.settings.get('service.ocsp');
    const service = delegated
      ? (JSON.parse(delegated) as { serial: string; keyRef: string; algorithm: SignatureAlgorithm })
      : undefined;
    const serviceRecord = service ? await authority.store.certificates.get(service.serial) : undefined;
    for (const ca of await authority.store.cas.list()) {
      const caCert = parseCertificate(ca.certificate);
      // The issuing CA answers through its delegated responder; any other CA signs its own answers.
      const useDelegated =
        !!service && !!serviceRecord && serviceRecord.caId === ca.id && serviceRecord.status === 'active';
      const responder: Responder = useDelegated
        ? {
            caId: ca.id,
            signer: authority.keyBackend().then((k) => k.signer(service!.keyRef, service!.algorithm)),
            algorithm: service!.algorithm,
            responderKeyId: keyIdentifier(parseCertificate(serviceRecord!.der).publicKey),
            certs: [serviceRecord!.der],
          }
        : {
            caId: ca.id,
            signer: authority.caSigner(ca.id),
            algorithm: ca.algorithm as SignatureAlgorithm,
            responderKeyId: caCert.subjectKeyId ?? keyIdentifier(caCert.publicKey),
            certs: [],
          };
      responder.signer.catch(() => {});
      for (const hash of HASHES) {
        const h = issuerHashes(caCert, hash);
        issuers.set(issuerKey(hash, h.nameHash, h.keyHash), responder);
      }
    }
    return issuers;
  }

  /** Waits until every signing key is loaded, so the first requests do not pay for it. */
  async ready(): Promise<void> {
    await Promise.all([...new Set(this.issuers.values())].map((r) => r.signer));
  }

  /** Answers one DER OCSP request; never throws for bad input, only for a broken store. */
  async respond(request: Uint8Array, now: Date = new Date()): Promise<OcspAnswer> {
    const bytes = request.length <= MAX_MEMO_REQUEST ? latin1(request) : undefined;
    const known = bytes === undefined ? undefined : this.byRequest.get(bytes);
    if (known !== undefined) {
      const hit = this.cache.get(known);
      if (hit && now.getTime() < hit.refreshAt) return hit.hit;
    }
    let parsed: ReturnType<typeof parseOcspRequest>;
    try {
      parsed = parseOcspRequest(request);
    } catch (e) {
      if (e instanceof PkiError) return errorAnswer('malformedRequest');
      throw e;
    }
    if (parsed.certIds.length === 0) return errorAnswer('malformedRequest');
    const responders = parsed.certIds.map((id) =>
      this.issuers.get(issuerKey(id.hashAlgorithm, id.issuerNameHash, id.issuerKeyHash)),
    );
    const first = responders[0];
    // One response has one signer, so every CertID must name the same CA, and one we serve.
    if (!first || responders.some((r) => r !== first)) return errorAnswer('unauthorized');

    if (!parsed.nonce && parsed.certIds.length === 1) {
      const key = hex(parsed.certIds[0].der);
      if (bytes !== undefined) this.memo(bytes, key);
      const hit = this.cache.get(key);
      if (hit && now.getTime() < hit.refreshAt) return hit.hit;
      const entry = await this.cached(first, parsed.certIds[0], key, now);
      return {
        der: entry.der,
        cacheable: true,
        thisUpdate: entry.thisUpdate,
        nextUpdate: entry.nextUpdate,
        etag: entry.etag,
        cache: 'miss',
        status: 'successful',
      };
    }
    const der = await this.sign(first, parsed.certIds, now, parsed.nonce);
    return { der, cacheable: false, cache: 'none', status: 'successful' };
  }

  /** Drops what is cached in memory about a certificate (the CA already deleted the stored copy). */
  forget(serial: string): void {
    for (const key of this.bySerial.get(serial) ?? []) this.cache.delete(key);
    this.bySerial.delete(serial);
  }

  /** How many responses are held in memory. */
  get size(): number {
    return this.cache.size;
  }

  private async cached(responder: Responder, certId: OcspCertId, key: string, now: Date): Promise<Cached> {
    const stored = await this.authority.store.ocspResponses.get(key);
    const refreshAfter = (this.options.validityHours * HOUR) / 2;
    if (
      stored &&
      now.getTime() < stored.thisUpdate.getTime() + refreshAfter &&
      signedBy(stored.der, responder)
    ) {
      return this.remember(key, stored.serial, stored.der, stored.thisUpdate, stored.nextUpdate);
    }
    const thisUpdate = wholeSecond(now);
    const nextUpdate = new Date(thisUpdate.getTime() + this.options.validityHours * HOUR);
    const der = await this.sign(responder, [certId], now);
    await this.authority.store.ocspResponses.put({
      certId: key,
      serial: certId.serialHex,
      der,
      thisUpdate,
      nextUpdate,
    });
    return this.remember(key, certId.serialHex, der, thisUpdate, nextUpdate);
  }

  // Bounded like the cache; a dropped entry only costs one parse.
  private memo(bytes: string, key: string): void {
    if (this.byRequest.size >= this.options.maxCached)
      this.byRequest.delete(this.byRequest.keys().next().value!);
    this.byRequest.set(bytes, key);
  }

  private remember(key: string, serial: string, der: Uint8Array, thisUpdate: Date, nextUpdate: Date): Cached {
    const body = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    const entry: Cached = {
      der: body,
      serial,
      thisUpdate,
      nextUpdate,
      refreshAt: thisUpdate.getTime() + (nextUpdate.getTime() - thisUpdate.getTime()) / 2,
      etag,
      hit: Object.freeze({
        der: body,
        cacheable: true,
        thisUpdate,
        nextUpdate,
        etag,
        cache: 'hit',
        status: 'successful',
      } as const),
    };
    if (this.cache.size >= this.options.maxCached) {
      const oldest = this.cache.keys().next().value!;
      const old = this.cache.get(oldest)!;
      this.cache.delete(oldest);
      this.bySerial.get(old.serial)?.delete(oldest);
    }
    this.cache.delete(key);
    this.cache.set(key, entry);
    const keys = this.bySerial.get(serial) ?? new Set<string>();
    keys.add(key);
    this.bySerial.set(serial, keys);
    return entry;
  }

  private async sign(
    responder: Responder,
    certIds: OcspCertId[],
    now: Date,
    nonce?: Uint8Array,
  ): Promise<Uint8Array> {
    const thisUpdate = wholeSecond(now);
    const nextUpdate = new Date(thisUpdate.getTime() + this.options.validityHours * HOUR);
    const responses = await Promise.all(
      certIds.map(async (certId) => ({
        certId,
        status: await this.status(responder.caId, certId.serialHex),
        thisUpdate,
        nextUpdate,
      })),
    );
    const signer = await responder.signer;
    const started = performance.now();
    const der = await buildOcspResponse(
      {
        responderKeyId: responder.responderKeyId,
        producedAt: thisUpdate,
        responses,
        nonce,
        signatureAlgorithm: responder.algorithm,
        certs: responder.certs,
      },
      (tbs) => signer.sign(tbs),
    );
    this.options.onSigned?.((performance.now() - started) / 1000);
    return der;
  }

  private async status(caId: string, serial: string): Promise<OcspCertStatus> {
    const record = await this.authority.store.certificates.get(serial);
    if (!record || record.caId !== caId) return { status: 'unknown' };
    if (record.status === 'active') return { status: 'good' };
    const reason = (
      record.status === 'hold' ? 'certificateHold' : (record.revocationReason ?? 'unspecified')
    ) as RevocationReason;
    return { status: 'revoked', revokedAt: record.revokedAt ?? record.statusChangedAt, reason };
  }
}

// A stored answer signed before the responder changed (a new OCSP certificate) is signed again.
function signedBy(der: Uint8Array, responder: Responder): boolean {
  const id = parseOcspResponse(der).responderKeyId;
  return !!id && Buffer.from(id).equals(responder.responderKeyId);
}

function errorAnswer(status: 'malformedRequest' | 'unauthorized' | 'internalError'): OcspAnswer {
  return { der: ocspErrorResponse(status), cacheable: false, cache: 'none', status };
}

function issuerKey(hash: string, nameHash: Uint8Array, keyHash: Uint8Array): string {
  return `${hash}:${hex(nameHash)}:${hex(keyHash)}`;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function wholeSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
