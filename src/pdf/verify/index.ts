// Verification: the signatures, their certificate chains and their revocation status, into a report.
export { type ChainResult, type ChainSources, validateChain } from './chain.js';
export { verifyPdf } from './verify.js';
