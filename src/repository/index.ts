export { type PublicCertificate, Repository } from './repository.js';
