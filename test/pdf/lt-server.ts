import { buildTimeStampRequest, parseTimeStampResponse } from '../../src/pki/index.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A Kyso server whose certificates' OCSP and CRL URLs are the ones it listens on. */
export function startPublicTestServer(dir: string): Promise<TestServer> {
  return startTestServer(dir, { name: 'sqlite' }, { publicUrl: true });
}

/** A time-stamp token over a SHA-256 imprint from the TSA at url (a Kyso server's /tsa). */
export async function tsaToken(url: string, imprint: Uint8Array): Promise<Uint8Array> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: buildTimeStampRequest({ hashAlgorithm: 'sha256', messageImprint: imprint, certReq: true }),
  });
  const reply = parseTimeStampResponse(new Uint8Array(await res.arrayBuffer()));
  if (!reply.token) throw new Error(`the TSA refused: ${reply.status}`);
  return reply.token;
}
