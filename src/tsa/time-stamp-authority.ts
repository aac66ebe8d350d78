import { randomFillSync } from 'node:crypto';
import type { CertificateAuthority } from '../ca/index.js';
import type { Signer } from '../keys/index.js';
import {
  buildTimeStampResponse,
  PkiError,
  parseTimeStampRequest,
  type SignatureAlgorithm,
  timeStampRejection,
} from '../pki/index.js';

/** ETSI EN 319 421's best-practices time-stamp policy: the default a TSA claims. */
export const DEFAULT_TSA_POLICY = '0.4.0.2023.1.1';

export interface TimeStampAuthorityOptions {
  /** The policy OID put in tokens when the request names none. */
  policy: string;
  /** Further policies a request may ask for. */
  acceptedPolicies: string[];
  /** The accuracy stated in tokens; the clock must be NTP-disciplined to honour it. */
  accuracySeconds: number;
}

export interface TimeStampAnswer {
  der: Uint8Array;
  granted: boolean;
  failure?: string;
}

const HASH_SIZES: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };

/**
 * The time-stamp authority (RFC 3161 with RFC 5816). The time is the system clock's when the
 * request arrives (Law 20/2023 Art. 31), in whole seconds; serial numbers are 128-bit random.
 */
export class TimeStampAuthority {
  private readonly serials = new SerialNumbers();
  // The signer once loaded: awaiting the settled promise cost a turn of the microtask queue per token.
  private loaded: Signer | undefined;

  private constructor(
    private readonly signer: Promise<Signer>,
    private readonly algorithm: SignatureAlgorithm,
    private readonly certificate: Uint8Array,
    private readonly chain: Uint8Array[],
    private readonly options: TimeStampAuthorityOptions,
  ) {
    signer.then(
      (s) => {
        this.loaded = s;
      },
      () => {},
    );
  }

  /** The TSA made by the key ceremony, or undefined when this installation has none. */
  static async open(
    authority: CertificateAuthority,
    options: TimeStampAuthorityOptions,
  ): Promise<TimeStampAuthority | undefined> {
    const setting = await authority.store.settings.get('service.tsa');
    if (!setting) return undefined;
    const service = JSON.parse(setting) as { serial: string; keyRef: string; algorithm: SignatureAlgorithm };
    const record = await authority.store.certificates.get(service.serial);
    if (!record) return undefined;
    const chain = (await authority.chain(record.caId)).map((c) => c.certificate);
    const signer = authority.keyBackend().then((k) => k.signer(service.keyRef, service.algorithm));
    signer.catch(() => {});
    return new TimeStampAuthority(signer, service.algorithm, record.der, chain, options);
  }

  /** Waits for the signing key. */
  async ready(): Promise<void> {
    await this.signer;
  }

  /** The TSA's certificate (DER). */
  get tsaCertificate(): Uint8Array {
    return this.certificate;
  }

  /** Answers one DER time-stamp request; bad requests get a rejection, never an exception. */
  async stamp(request: Uint8Array, now: Date = new Date()): Promise<TimeStampAnswer> {
    let req: ReturnType<typeof parseTimeStampRequest>;
    try {
      req = parseTimeStampRequest(request);
    } catch (e) {
      if (e instanceof PkiError) return reject('badDataFormat', 'the request is not a DER TimeStampReq');
      throw e;
    }
    const size = HASH_SIZES[req.hashAlgorithm];
    if (!size) return reject('badAlg', 'accepted hash algorithms: SHA-256, SHA-384, SHA-512');
    if (req.messageImprint.length !== size)
      return reject('badDataFormat', 'the message imprint does not match its hash algorithm');
    const policy = req.policy ?? this.options.policy;
    if (policy !== this.options.policy && !this.options.acceptedPolicies.includes(policy)) {
      return reject('unacceptedPolicy', `policy ${policy} is not offered`);
    }
    if (req.hasExtensions) return reject('unacceptedExtension', 'request extensions are not supported');
    const genTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const signer = this.loaded ?? (await this.signer);
    const der = await buildTimeStampResponse({
      request: req,
      policy,
      serial: this.serials.next(),
      genTime,
      accuracy: { seconds: this.options.accuracySeconds },
      tsaCertificate: this.certificate,
      chain: this.chain,
      signatureAlgorithm: this.algorithm,
      // On the thread pool (the soft signer's callback form): measured against signing inline, it
      // halves a lone request's throughput but adds a third under concurrent load, in-process and
      // over HTTP alike, where the event loop has other requests to serve meanwhile.
      sign: (data) => signer.sign(data),
    });
    return { der, granted: true };
  }
}

/**
 * 128-bit random serial numbers (as randomSerial makes them) cut from a batch of random bytes:
 * a randomBytes call per token cost more than parsing the request.
 */
class SerialNumbers {
  private batch = new Uint8Array(0);
  private at = 0;

  next(): Uint8Array {
    if (this.at + 16 > this.batch.length) {
      this.batch = randomFillSync(new Uint8Array(4096));
      this.at = 0;
    }
    const serial = this.batch.slice(this.at, this.at + 16);
    this.at += 16;
    // A positive INTEGER of 16 octets: the first octet is 0x10 to 0x7F.
    serial[0] = 0x10 + (serial[0] % 0x70);
    return serial;
  }
}

const REJECTIONS = new Map<string, Uint8Array>();

function reject(failure: Parameters<typeof timeStampRejection>[0], text: string): TimeStampAnswer {
  const key = `${failure}:${text}`;
  const der = REJECTIONS.get(key) ?? timeStampRejection(failure, text);
  REJECTIONS.set(key, der);
  return { der, granted: false, failure };
}
