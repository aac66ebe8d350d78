import type { RevocationSource } from '../pdf/index.js';
import { buildOcspRequest, ocspUrls, parseCertificate } from '../pki/index.js';
import { fetchDer, httpUrl } from './ocsp.js';

// The network side of revocation checking: OCSP requests to the responder a certificate names (AIA) and
// CRL downloads from its distribution points, each bounded in time and size. What comes back is judged
// by pdf/revocation, never here.

const MAX_OCSP_BYTES = 1024 * 1024;
const MAX_CRL_BYTES = 64 * 1024 * 1024;

/** A RevocationSource over HTTP; each CRL URL is fetched at most once per source. */
export function httpRevocationSource(options: { timeoutMs?: number } = {}): RevocationSource {
  const crls = new Map<string, Promise<Uint8Array>>();
  return {
    async ocsp(certDer, issuerDer) {
      const cert = parseCertificate(certDer);
      const url = ocspUrls(cert)[0];
      if (!url) return undefined;
      const request = buildOcspRequest([{ issuer: parseCertificate(issuerDer), serial: cert.serial }]);
      return fetchDer(
        httpUrl(url, 'the AIA OCSP URL'),
        { accept: 'application/ocsp-response', body: request, contentType: 'application/ocsp-request' },
        MAX_OCSP_BYTES,
        options.timeoutMs,
      );
    },
    crl(url) {
      let known = crls.get(url);
      if (!known) {
        known = fetchDer(
          httpUrl(url, 'the CRL distribution point'),
          { accept: 'application/pkix-crl, */*' },
          MAX_CRL_BYTES,
          options.timeoutMs,
        );
        crls.set(url, known);
      }
      return known;
    },
  };
}
