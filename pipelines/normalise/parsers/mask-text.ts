/**
 * Masks mobile, landline and ID numbers inside free text (ticket content, violation facts, summaries).
 * It over-masks rather than under-masks: an ID with a wrong check character is still a person's
 * number, so only the shape and a plausible birth date are required, never the checksum.
 */
import { maskIdNumber } from './parse-id-number';
import { maskMobile } from './parse-phone';
import { toHalfWidth } from './text';

const D = '[0-9\\uFF10-\\uFF19]';
const ALNUM = '0-9\\uFF10-\\uFF19A-Za-z\\uFF21-\\uFF3A\\uFF41-\\uFF5A';
// A number glued to letters or digits is part of something else: credit codes (91350100M000100Y43),
// ticket numbers, longer digit runs. A digit followed by `.5` or preceded by `3.` is an amount.
const BEFORE = `(?<![${ALNUM}])(?<!${D}[.．])`;
const AFTER = `(?![${ALNUM}])(?![.．]${D})`;
const ID18 = `${D}{17}[0-9\\uFF10-\\uFF19Xx\\uFF38\\uFF58]`;
const ID15 = `${D}{15}`;
const SEP = '[ \\-－]?';
const MOBILE = `(?:(?:\\+|＋|00|００)?(?:86|８６)${SEP})?[1１][3-9３-９]${D}(?:${SEP}${D}{4}){2}`;
// `(?![元万亿])`: an eleven-digit figure followed by a currency word is an amount, not a phone.
const PII = new RegExp(`${BEFORE}(?:(${ID18})|(${ID15})|(${MOBILE})(?![元万亿]))${AFTER}`, 'g');

// ID numbers written in groups (`620902 19810823 1234`, `620902 1981 0823 1234`) and landlines
// with an area code (`0937-2612345`, `(0937)2612345`): a separator or brackets are required for a
// landline, so a plain run of digits (an order number) is not taken for one.
const ID_GROUPED = new RegExp(`${BEFORE}${D}{6} (?:${D}{8}|${D}{4} ${D}{4}) ${D}{3}[0-9\\uFF10-\\uFF19Xx\\uFF38\\uFF58]${AFTER}`, 'g');
const LANDLINE = new RegExp(`${BEFORE}(?:[(（](0${D}{2,3})[)）] ?|(0${D}{2,3})[-－ ])(${D}{7,8})${AFTER}`, 'g');

// Order numbers and long amounts also have 15 or 18 digits; an ID number's birth date
// (YYYYMMDD, or YYMMDD in the old form) tells them apart.
function plausibleBirth(yyyymmdd: string): boolean {
  const m = /^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.exec(yyyymmdd);
  return m !== null;
}

/**
 * Example: `maskPiiInText('联系电话138 1234 5678，身份证11010519491231002X')`
 * → `{ text: '联系电话138****5678，身份证110105********002X', found: 2 }`.
 * Decision numbers (`酒市监罚〔2025〕17号`), dates (`20250604`), amounts and credit codes stay as written.
 */
export function maskPiiInText(text: string): { text: string; found: number } {
  let found = 0;
  const masked = text.replace(PII, (match: string, id18?: string, id15?: string, mobile?: string) => {
    if (id18 !== undefined || id15 !== undefined) {
      const id = toHalfWidth(match).toUpperCase();
      const birth = id.length === 18 ? id.slice(6, 14) : `19${id.slice(6, 12)}`;
      if (!plausibleBirth(birth)) return match;
      found += 1;
      return maskIdNumber(id);
    }
    if (mobile !== undefined) {
      const digits = toHalfWidth(match).replace(/\D/g, '').slice(-11);
      found += 1;
      return maskMobile(digits);
    }
    return match;
  });
  const grouped = masked.replace(ID_GROUPED, (match: string) => {
    const id = toHalfWidth(match).replace(/ /g, '').toUpperCase();
    if (!plausibleBirth(id.slice(6, 14))) return match;
    found += 1;
    return maskIdNumber(id);
  });
  const landlines = grouped.replace(LANDLINE, (_match: string, bracketed?: string, dashed?: string, number?: string) => {
    found += 1;
    const local = toHalfWidth(number!);
    return `${toHalfWidth(bracketed ?? dashed!)}-${'*'.repeat(local.length - 3)}${local.slice(-3)}`;
  });
  return { text: landlines, found };
}
