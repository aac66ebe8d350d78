// The help text and usage lines of `kyso pdf`, shared by its sign, extend and verify commands.

import { EXIT } from './errors.js';

export const PDF_HELP = `kyso pdf COMMAND
  sign IN.pdf --out OUT.pdf KEY [--level B-B|B-T|B-LT|B-LTA] [--tsa URL] [--timeout S]
      [--reason TEXT] [--location TEXT] [--name TEXT] [--field NAME] [--rsa-padding pss|pkcs1]
      [--certify P1|P2|P3] [--lock-fields all|NAME,NAME] [APPEARANCE]
    appends a PAdES signature (ETSI.CAdES.detached) as an incremental update; KEY is one of
      --p12 FILE --passin SECRET                 a PKCS#12 file (openssl pkcs12 -export)
      --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] [--passin SECRET]   a PEM private key
      --pkcs11-token LABEL --pkcs11-key LABEL --cert CERT.pem [--chain CHAIN.pem]   a PKCS#11 key (PIN from
        KYSO_PKCS11_PIN or KYSO_PKCS11_PIN_FILE, module from KYSO_PKCS11_MODULE)
    SECRET is env:VAR, file:PATH or pass:TEXT (OpenSSL's convention). B-T time-stamps the signature at
    --tsa; B-LT adds a DSS with the OCSP responses (else CRLs) for the signer's and the TSA's certificates,
    fetched from the URLs they name (give the root in a --chain file so the issuing CA is covered too);
    B-LTA then adds a document time-stamp from --tsa. --timeout bounds each request (default 10 s). Invisible by default (its widget on --page N); APPEARANCE (Decree 30/2020) is one of
      --image PNG --rect x,y,w,h [--page N|last]          the leader's signature image (default last page)
      --seal --image PNG --rect x,y,w,h [--page N|last]   the organization seal, at the size of --rect
      --image PNG --anchor TEXT [--page N|last] [--size w,h]   the leader's image above TEXT (the full name),
        centred on it, between it and the job title; at most 150 pt wide by default
      --seal --image PNG --anchor TEXT [--page N|last] [--size w,h]   the seal over the left third of the
        leader's image above TEXT, at actual size (the PNG's pHYs, else 40 mm)
      --stamp "NUMBER/SYMBOL" [--font FILE.ttf]           text stamp top-right of page 1, signing time added
    --rect is in points from the page's bottom-left corner. --anchor searches the last page, then earlier
    ones (or only --page), and takes TEXT's last occurrence on the page; --size (or --rect w,h) sets the size.
    --certify makes the first signature a certification (DocMDP): P1 allows no change after it but
    validation data and document time-stamps, P2 also form filling and signing, P3 also comments.
    --lock-fields locks form fields (FieldMDP) against changes after this signature: all, or the names.
    Exit status: 0 signed, 1 failed, 3 usage error.
  extend IN.pdf --out OUT.pdf [--level B-LT|B-LTA] [--tsa URL] [--chain FILE.pem]... [--timeout S]
    adds the validation data of every signature and time-stamp (DSS) to a signed PDF, and for B-LTA a
    document time-stamp from --tsa. Exit status: 0 extended (warnings name data that could not be had).
  verify FILE.pdf [--ca FILE.pem]... [--offline] [--timeout S] [--json] [--lang vi|en] [--report OUT.pdf]
    checks every signature: integrity, signer, chain to the trust anchors (--ca PEM files, the roots of the
    Kyso CA in --data, and trust.anchors in kyso.json or KYSO_TRUST_ANCHORS), revocation (the DSS, the
    CMS, then online OCSP or CRL unless --offline; --timeout per request, default 10 s), time-stamp; prints the
    report in Vietnamese (default) or English, or as JSON. --report also writes the report as a PDF to print
    or file (font: KYSO_REPORT_FONT and KYSO_REPORT_FONT_BOLD, else Liberation Serif).
    Exit status: 0 valid, 1 invalid, 2 indeterminate, 3 usage error.`;

export const SIGN_USAGE =
  'kyso pdf sign IN.pdf --out OUT.pdf (--p12 FILE | --key FILE | --pkcs11-token LABEL) …';
export const VERIFY_USAGE =
  'kyso pdf verify FILE.pdf [--ca FILE.pem]... [--offline] [--timeout S] [--json] [--lang vi|en] [--report OUT.pdf]';
export const EXTEND_USAGE =
  'kyso pdf extend IN.pdf --out OUT.pdf [--level B-LT|B-LTA] [--tsa URL] [--chain FILE.pem]...';
/** `kyso pdf verify` exits with its verdict, in the numbers every command uses (src/cli/errors.ts). */
export const VERIFY_EXIT = {
  valid: EXIT.ok,
  invalid: EXIT.failed,
  indeterminate: EXIT.indeterminate,
} as const;
export const VERIFY_USAGE_EXIT = EXIT.usage;
