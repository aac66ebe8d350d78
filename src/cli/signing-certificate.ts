import { checkPathRevocation, type RevocationSource, vietnamTime } from '../pdf/index.js';
import {
  crlUrls,
  formatName,
  issuedBy,
  ocspUrls,
  type ParsedCertificate,
  parseCertificate,
} from '../pki/index.js';
import { caIssuersUrls, type IssuerFetcher } from './ca-issuers.js';

// What `kyso pdf sign` checks before it signs: a signature made with a certificate that is expired,
// not yet valid, revoked, on hold or not really issued by its issuer can never be valid, so it is
// refused before anything is written. The issuers come from the given chain, else from the AIA
// caIssuers URL; what cannot be checked is said on stderr, and signing goes on.

/** Signing was refused because of the signing certificate: exit 1, no output. */
export class SigningRefused extends Error {
  readonly code = 'signing-refused';

  constructor(vi: string, en: string) {
    super(`không ký: ${vi} / refusing to sign: ${en}`);
    this.name = 'SigningRefused';
  }
}

/** The certificates the signature should carry (the chain, completed), and what could not be checked. */
export interface SigningCheck {
  chain: Uint8Array[];
  warnings: string[];
}

/** What the check uses: the signing time, and where revocation status and missing issuers come from. */
export interface SigningCheckOptions {
  at: Date;
  source: RevocationSource;
  fetchIssuers: IssuerFetcher;
}

const MAX_PATH = 8;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const selfIssued = (c: ParsedCertificate) => same(c.subjectDer, c.issuerDer);

/**
 * Checks the signing certificate at the signing time — validity period, its signature under its
 * issuer, the revocation status of its path — and completes the chain up to a self-signed root.
 * Throws SigningRefused when the signature could never be valid.
 */
export async function checkSigningCertificate(
  certificate: Uint8Array,
  chain: Uint8Array[],
  options: SigningCheckOptions,
): Promise<SigningCheck> {
  const leaf = parseCertificate(certificate);
  const { at } = options;
  if (at < leaf.notBefore)
    throw new SigningRefused(
      `chứng thư số chưa có hiệu lực (từ ${vietnamTime(leaf.notBefore)})`,
      `the certificate is not valid before ${leaf.notBefore.toISOString()}`,
    );
  if (at > leaf.notAfter)
    throw new SigningRefused(
      `chứng thư số đã hết hạn lúc ${vietnamTime(leaf.notAfter)}`,
      `the certificate expired at ${leaf.notAfter.toISOString()}`,
    );
  const warnings: string[] = [];
  const pool = chain.flatMap((der) => readable(der) ?? []);
  const fetched: ParsedCertificate[] = [];
  const path = [leaf];
  for (let depth = 0; depth < MAX_PATH; depth++) {
    const current = path[path.length - 1];
    if (selfIssued(current) && issuedBy(current, current)) break;
    let issuer = findIssuer(current, [...pool, ...fetched]);
    if (!issuer) {
      const got = await fromAia(current, options.fetchIssuers, warnings);
      fetched.push(...got.filter((c) => ![...pool, ...fetched].some((k) => same(k.der, c.der))));
      issuer = findIssuer(current, [...pool, ...fetched]);
    }
    if (issuer) {
      path.push(issuer);
      continue;
    }
    const named = [...pool, ...fetched].some((c) => same(c.subjectDer, current.issuerDer));
    if (depth === 0 && (named || selfIssued(current)))
      throw new SigningRefused(
        `chữ ký trên chứng thư số không khớp với tổ chức cấp ${formatName(leaf.issuer)}`,
        `the certificate's signature does not verify with its issuer ${formatName(leaf.issuer)}`,
      );
    warnings.push(
      depth === 0
        ? `the issuer of the certificate (${formatName(current.issuer)}) is unknown, so its signature and revocation status are not checked: give it with --chain`
        : `the chain ends at ${formatName(current.subject)}: its issuer ${formatName(current.issuer)} is unknown (give it with --chain)`,
    );
    break;
  }
  if (path.length > 1) await checkRevocation(path, options, warnings);
  return { chain: [...chain, ...fetched.map((c) => c.der)], warnings };
}

function readable(der: Uint8Array): ParsedCertificate | undefined {
  try {
    return parseCertificate(der);
  } catch {
    return undefined;
  }
}

/** The certificate among candidates that issued cert: same name, and its key verifies cert's signature. */
function findIssuer(cert: ParsedCertificate, candidates: ParsedCertificate[]): ParsedCertificate | undefined {
  return candidates.find((c) => !same(c.der, cert.der) && issuedBy(cert, c));
}

/** The certificates cert's caIssuers URLs serve; what cannot be had becomes a warning. */
async function fromAia(
  cert: ParsedCertificate,
  fetchIssuers: IssuerFetcher,
  warnings: string[],
): Promise<ParsedCertificate[]> {
  const out: ParsedCertificate[] = [];
  for (const url of caIssuersUrls(cert)) {
    try {
      out.push(...(await fetchIssuers(url)).flatMap((der) => readable(der) ?? []));
    } catch (e) {
      warnings.push(`the issuer certificate cannot be fetched: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Refuses a path with a revoked or held certificate; a status that cannot be had is a warning. */
async function checkRevocation(
  path: ParsedCertificate[],
  options: SigningCheckOptions,
  warnings: string[],
): Promise<void> {
  const empty = { certs: [], ocsps: [], crls: [] };
  const r = await checkPathRevocation(
    path.map((c) => c.der),
    { dss: empty, cms: empty, source: options.source, now: options.at },
  );
  for (const [i, c] of r.certificates.entries()) {
    const whose = i === 0 ? 'chứng thư số' : `chứng thư số của ${c.subject}`;
    const whoseEn = i === 0 ? 'the certificate' : `the certificate of ${c.subject}`;
    const when = c.revokedAt;
    const why = c.reason && c.reason !== 'certificateHold' ? ` (${c.reason})` : '';
    if (c.status === 'revoked')
      throw new SigningRefused(
        `${whose} đã bị thu hồi${when ? ` lúc ${vietnamTime(when)}` : ''}${why}`,
        `${whoseEn} was revoked${when ? ` at ${when.toISOString()}` : ''}${why}`,
      );
    if (c.status === 'on-hold')
      throw new SigningRefused(
        `${whose} đang bị tạm dừng${when ? ` từ ${vietnamTime(when)}` : ''}`,
        `${whoseEn} is on hold${when ? ` since ${when.toISOString()}` : ''}`,
      );
    // A certificate that names no responder or CRL has no status to ask for.
    const named = ocspUrls(path[i]).length || crlUrls(path[i]).length;
    if (c.status === 'unknown' && named)
      warnings.push(`the revocation status of ${c.subject} cannot be checked: ${c.detail}`);
  }
}
