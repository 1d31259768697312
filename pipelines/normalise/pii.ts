/**
 * Masks for personal names (REFERENCE §1: keep the first character, 张**). Names of
 * individuals never leave the normaliser in clear; organisations' names stay readable.
 */
export function maskPersonName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length === 0) return '';
  return chars[0] + '*'.repeat(Math.max(1, chars.length - 1));
}

/** Replaces every occurrence of the given clear names in `text` by their masked forms. */
export function maskNamesInText(text: string, names: Iterable<string>): string {
  let out = text;
  // Longest first, so 张三丰 is not left as **丰 by an earlier 张三.
  for (const name of [...new Set(names)].filter((n) => Array.from(n).length >= 2).sort((a, b) => b.length - a.length)) {
    out = out.split(name).join(maskPersonName(name));
  }
  return out;
}
