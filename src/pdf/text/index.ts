// Text extraction: the words on a page and where they are, for anchoring and the difference analysis.
export { findText, PageText, type TextBox, type TextSearchOptions, type TextWord } from './text-search.js';
