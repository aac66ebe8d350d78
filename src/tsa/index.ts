export {
  DEFAULT_TSA_POLICY,
  type TimeStampAnswer,
  TimeStampAuthority,
  type TimeStampAuthorityOptions,
} from './time-stamp-authority.js';
