/**
 * The form names are searched in: diacritics stripped (đ → d as well, which Unicode does not
 * decompose), lower case, single spaces. "Nguyễn Văn An" and "nguyen van an" have one key.
 */
export function searchKey(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** The least string greater than every string that starts with `prefix` (in byte order). */
export function prefixEnd(prefix: string): string {
  const last = prefix.codePointAt(prefix.length - 1)!;
  return prefix.slice(0, -1) + String.fromCodePoint(last + 1);
}
