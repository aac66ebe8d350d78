export { type OcspAnswer, OcspResponder, type OcspResponderOptions } from './ocsp-responder.js';
