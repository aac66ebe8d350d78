import { requestTimeStamp } from '../../src/cli/ts.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A Kyso server whose certificates' OCSP and CRL URLs are the ones it listens on. */
export function startPublicTestServer(dir: string): Promise<TestServer> {
  return startTestServer(dir, { name: 'sqlite' }, { publicUrl: true });
}

/** A time-stamp token over a SHA-256 imprint from the TSA at url (a Kyso server's /tsa), its reply checked. */
export async function tsaToken(url: string, imprint: Uint8Array): Promise<Uint8Array> {
  return (await requestTimeStamp(url, imprint, 'sha256')).token;
}
