import { createHash } from 'node:crypto';
import { CaError, type CertificateAuthority, isOffline } from '../ca/index.js';
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
import { type CertificateStatusRecord, type OcspResponseRecord, StoreError } from '../store/index.js';

/** What the responder answers: the DER body and, for a cacheable answer, its freshness. */
export interface OcspAnswer {
  der: Uint8Array;
  /** True for a nonce-less answer about one certificate: HTTP caches may keep it. */
  cacheable: boolean;
  thisUpdate?: Date;
  nextUpdate?: Date;
  etag?: string;
  cache: 'hit' | 'miss' | 'none';
  status: 'successful' | 'malformedRequest' | 'unauthorized' | 'internalError' | 'tryLater';
}

/** How one CA's certificates are answered for: which key signs, and with which certificate attached. */
interface Responder {
  caId: string;
  /** None for an offline root: its answers were signed at its ceremony and imported. */
  signer?: Promise<Signer>;
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
  /** Told when the database failed under a request (the answer was then tryLater or internalError). */
  onStoreError?: (error: unknown) => void;
}

/** The last failure to store a signed answer. */
export interface StoreFault {
  code: string;
  message: string;
  at: Date;
}

/** A cache miss under way: a status change of its certificate meanwhile makes its answer unfit to keep. */
interface Miss {
  stale: boolean;
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
  private readonly misses = new Map<string, Set<Miss>>();
  #storeFault?: StoreFault;

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
            signer: isOffline(ca) ? undefined : authority.caSigner(ca.id),
            algorithm: ca.algorithm as SignatureAlgorithm,
            responderKeyId: caCert.subjectKeyId ?? keyIdentifier(caCert.publicKey),
            certs: [],
          };
      responder.signer?.catch(() => {});
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

  /**
   * Answers one DER OCSP request. Never throws: a database that is down or busy answers tryLater,
   * any other failure internalError, both encoded as OCSP (RFC 6960 §2.3).
   */
  async respond(request: Uint8Array, now: Date = new Date()): Promise<OcspAnswer> {
    try {
      return await this.answer(request, now);
    } catch (e) {
      this.options.onStoreError?.(e);
      const transient = e instanceof StoreError && (e.code === 'unavailable' || e.code === 'locked');
      return errorAnswer(transient ? 'tryLater' : 'internalError');
    }
  }

  private async answer(request: Uint8Array, now: Date): Promise<OcspAnswer> {
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
    if (!first.signer) return this.presigned(parsed.certIds, bytes, now);

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
    const statuses = await Promise.all(parsed.certIds.map((id) => this.status(first.caId, id.serialHex)));
    const der = await this.sign(
      first,
      parsed.certIds.map((certId, i) => ({ certId, status: statuses[i].status })),
      now,
      parsed.nonce,
    );
    return { der, cacheable: false, cache: 'none', status: 'successful' };
  }

  /** Drops what is cached in memory about a certificate (the CA already deleted the stored copy). */
  forget(serial: string): void {
    for (const key of this.bySerial.get(serial) ?? []) this.cache.delete(key);
    this.bySerial.delete(serial);
    for (const miss of this.misses.get(serial) ?? []) miss.stale = true;
  }

  /** Why a signed answer last could not be stored, and when (kept after later stores succeed). */
  get storeFault(): StoreFault | undefined {
    return this.#storeFault;
  }

  /** How many responses are held in memory. */
  get size(): number {
    return this.cache.size;
  }

  /**
   * An offline root's answer: the one signed at its ceremony, whatever nonce was asked for
   * (RFC 5019 §2.2.1), or `unauthorized` when there is none or it ran out.
   */
  private async presigned(certIds: OcspCertId[], bytes: string | undefined, now: Date): Promise<OcspAnswer> {
    if (certIds.length !== 1) return errorAnswer('unauthorized');
    const key = hex(certIds[0].der);
    const hit = this.cache.get(key);
    if (hit && now.getTime() < hit.refreshAt) return hit.hit;
    const stored = await this.authority.store.ocspResponses.get(key);
    if (!stored || now >= stored.nextUpdate) return errorAnswer('unauthorized');
    if (bytes !== undefined) this.memo(bytes, key);
    const entry = this.keep(key, this.entry(stored.serial, stored.der, stored.thisUpdate, stored.nextUpdate));
    return { ...entry.hit, cache: 'miss' };
  }

  private async cached(responder: Responder, certId: OcspCertId, key: string, now: Date): Promise<Cached> {
    const serial = certId.serialHex;
    const miss: Miss = { stale: false };
    const misses = this.misses.get(serial) ?? new Set<Miss>();
    misses.add(miss);
    this.misses.set(serial, misses);
    try {
      const stored = await this.authority.store.ocspResponses.get(key);
      const refreshAfter = (this.options.validityHours * HOUR) / 2;
      if (
        stored &&
        now.getTime() < stored.thisUpdate.getTime() + refreshAfter &&
        signedBy(stored.der, responder)
      ) {
        const entry = this.entry(stored.serial, stored.der, stored.thisUpdate, stored.nextUpdate);
        return miss.stale ? entry : this.keep(key, entry);
      }
      const thisUpdate = wholeSecond(now);
      const nextUpdate = new Date(thisUpdate.getTime() + this.options.validityHours * HOUR);
      const { status, record } = await this.status(responder.caId, serial);
      const der = await this.sign(responder, [{ certId, status }], now);
      // Unknown serials are not stored: strangers' questions must not grow the database.
      if (record)
        await this.store({ certId: key, serial, der, thisUpdate, nextUpdate, statusVersion: record.version });
      const entry = this.entry(serial, der, thisUpdate, nextUpdate);
      // The status changed while this answer was made: send it (it was true when read), keep it nowhere.
      return miss.stale ? entry : this.keep(key, entry);
    } finally {
      misses.delete(miss);
      if (misses.size === 0) this.misses.delete(serial);
    }
  }

  // A signed answer is sent even when it cannot be stored: storing only saves a later signature.
  private async store(r: OcspResponseRecord): Promise<void> {
    try {
      await this.authority.store.ocspResponses.putIfCurrent(r);
    } catch (e) {
      const err = e as { code?: unknown; message?: string };
      this.#storeFault = {
        code: typeof err?.code === 'string' ? err.code : 'internal-error',
        message: err?.message ?? String(e),
        at: new Date(),
      };
      this.options.onStoreError?.(e);
    }
  }

  // Bounded like the cache; a dropped entry only costs one parse.
  private memo(bytes: string, key: string): void {
    if (this.byRequest.size >= this.options.maxCached)
      this.byRequest.delete(this.byRequest.keys().next().value!);
    this.byRequest.set(bytes, key);
  }

  private entry(serial: string, der: Uint8Array, thisUpdate: Date, nextUpdate: Date): Cached {
    const body = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    return {
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
  }

  private keep(key: string, entry: Cached): Cached {
    if (this.cache.size >= this.options.maxCached) {
      const oldest = this.cache.keys().next().value!;
      const old = this.cache.get(oldest)!;
      this.cache.delete(oldest);
      this.bySerial.get(old.serial)?.delete(oldest);
    }
    this.cache.delete(key);
    this.cache.set(key, entry);
    const keys = this.bySerial.get(entry.serial) ?? new Set<string>();
    keys.add(key);
    this.bySerial.set(entry.serial, keys);
    return entry;
  }

  private async sign(
    responder: Responder,
    answers: { certId: OcspCertId; status: OcspCertStatus }[],
    now: Date,
    nonce?: Uint8Array,
  ): Promise<Uint8Array> {
    const thisUpdate = wholeSecond(now);
    const nextUpdate = new Date(thisUpdate.getTime() + this.options.validityHours * HOUR);
    const responses = answers.map((a) => ({ ...a, thisUpdate, nextUpdate }));
    if (!responder.signer)
      throw new CaError('offline-ca', `CA ${responder.caId} has no online key to sign with`);
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

  private async status(
    caId: string,
    serial: string,
  ): Promise<{ status: OcspCertStatus; record?: CertificateStatusRecord }> {
    const record = await this.authority.store.certificates.statusOf(serial);
    if (!record || record.caId !== caId) return { status: { status: 'unknown' } };
    if (record.status === 'active') return { status: { status: 'good' }, record };
    const reason = (
      record.status === 'hold' ? 'certificateHold' : (record.reason ?? 'unspecified')
    ) as RevocationReason;
    return {
      status: { status: 'revoked', revokedAt: record.revokedAt ?? record.statusChangedAt, reason },
      record,
    };
  }
}

// A stored answer signed before the responder changed (a new OCSP certificate) is signed again.
function signedBy(der: Uint8Array, responder: Responder): boolean {
  const id = parseOcspResponse(der).responderKeyId;
  return !!id && Buffer.from(id).equals(responder.responderKeyId);
}

function errorAnswer(status: 'malformedRequest' | 'unauthorized' | 'internalError' | 'tryLater'): OcspAnswer {
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
