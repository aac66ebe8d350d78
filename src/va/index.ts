export {
  type OcspAnswer,
  OcspResponder,
  type OcspResponderOptions,
  type StoreFault,
} from './ocsp-responder.js';
