import { X509Certificate } from 'node:crypto';
import { type ParsedCertificate, parseCertificate, parseSignedData } from '../pki/index.js';
import { certificatesIn, fetchDer, httpUrl } from './ocsp.js';

// The network side of path building: the issuer certificates a certificate's AIA caIssuers URL serves
// (RFC 5280 §4.2.2.1: one DER certificate, or a certs-only CMS; PEM is accepted too), each download
// bounded in time and size. Whether they really issued anything is judged by the caller, never here.

const MAX_ISSUER_BYTES = 1024 * 1024;
/** More certificates than a certs-only bundle at one URL has any reason to hold. */
const MAX_CERTIFICATES = 16;

/** Fetches the certificates at a caIssuers URL. */
export type IssuerFetcher = (url: string) => Promise<Uint8Array[]>;

/** The http(s) caIssuers URLs of a certificate's authorityInfoAccess. */
export function caIssuersUrls(cert: ParsedCertificate): string[] {
  const text = new X509Certificate(cert.der).infoAccess ?? '';
  const urls: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^CA Issuers - URI:(.*)$/.exec(line);
    if (!m) continue;
    // Node quotes a value holding unusual characters as a JSON string.
    const value: string = m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
    if (/^https?:\/\//i.test(value)) urls.push(value);
  }
  return urls;
}

/** The certificates a download holds: DER, PEM or a certs-only CMS; none when it is none of them. */
function certificatesOf(bytes: Uint8Array): Uint8Array[] {
  const pem = certificatesIn(bytes);
  const found = pem.length === 1 && pem[0] === bytes ? certsOfDer(bytes) : pem;
  return found.slice(0, MAX_CERTIFICATES);
}

function certsOfDer(der: Uint8Array): Uint8Array[] {
  try {
    parseCertificate(der);
    return [der];
  } catch {
    try {
      return parseSignedData(der).certificates;
    } catch {
      return [];
    }
  }
}

/** An IssuerFetcher over HTTP; each URL is fetched at most once. */
export function httpIssuerFetcher(options: { timeoutMs?: number } = {}): IssuerFetcher {
  const known = new Map<string, Promise<Uint8Array[]>>();
  return (url) => {
    let got = known.get(url);
    if (!got) {
      got = fetchDer(
        httpUrl(url, 'the AIA caIssuers URL'),
        { accept: 'application/pkix-cert, application/pkcs7-mime, */*' },
        MAX_ISSUER_BYTES,
        options.timeoutMs,
      ).then(certificatesOf);
      known.set(url, got);
    }
    return got;
  };
}
