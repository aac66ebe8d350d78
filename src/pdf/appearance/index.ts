// Signature appearances: the stamp's content, embedded TrueType fonts, and anchoring it by text.
export {
  type AnchoredAppearance,
  type AnchorRequest,
  anchorAppearance,
  DEFAULT_SEAL_SIZE,
  MAX_IMAGE_WIDTH,
} from './anchor.js';
export {
  type AppearanceRect,
  addAppearance,
  appearancePage,
  embedFont,
  type ObjectSink,
  type SignatureAppearance,
} from './appearance.js';
export { layoutText, parseTrueType, type TrueTypeFont } from './font.js';
