/**
 * Text helpers shared by every parser: width folding and Chinese numerals. Agencies type on
 * Chinese IMEs, so full-width digits (`２０２５`) and numerals in words (`伍万元`, `二〇二五年`)
 * turn up in every family; this file is the one place that reads them.
 */
import { addDecimal, type Decimal, decimalOf, isZero, parseDecimalText, shiftDecimal, ZERO } from './decimal';

/**
 * Folds full-width ASCII (U+FF01–U+FF5E) to ASCII and the ideographic space U+3000 to a space.
 * Example: `toHalfWidth('９１３５０１００Ｍ')` → `'91350100M'`. Other characters (￥ U+FFE5,
 * 〔〕, Chinese text) are left alone.
 */
const FULL_WIDTH = /[\uff01-\uff5e\u3000]/;
const FULL_WIDTH_ALL = /[\uff01-\uff5e\u3000]/g;

export function toHalfWidth(s: string): string {
  // Most text has nothing to fold: answer without building a new string (this runs per field).
  if (!FULL_WIDTH.test(s)) return s;
  return s.replace(FULL_WIDTH_ALL, (ch) => (ch === '\u3000' ? ' ' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0)));
}

/** Half-width, with every kind of whitespace (including NBSP from web pages) removed. */
export function compactText(s: string): string {
  return toHalfWidth(s).replace(/[\s\u00a0\u200b\ufeff]+/g, '');
}

// Words that make a figure approximate (`约5万`, `五万多元`, `10亩以上`). A threshold rule must
// not fire on a guess, so money and quantity parsers refuse these instead of dropping the word.
const APPROXIMATE = /约|大约|左右|上下|多|余|以上|以下|不足|不到|超过|近|若干|几/;

export function approximateMarker(s: string): string | null {
  const m = APPROXIMATE.exec(s);
  return m ? m[0] : null;
}

// Everyday and financial (大写) forms; 两 and 幺 are the spoken 2 and 1, 〇/○ the written zero.
const DIGITS: Record<string, number> = {
  零: 0, 〇: 0, '○': 0, 一: 1, 壹: 1, 幺: 1, 二: 2, 贰: 2, 貳: 2, 两: 2, 兩: 2, 三: 3, 叁: 3, 參: 3,
  四: 4, 肆: 4, 五: 5, 伍: 5, 六: 6, 陆: 6, 陸: 6, 七: 7, 柒: 7, 八: 8, 捌: 8, 九: 9, 玖: 9,
};
const SMALL_UNITS: Record<string, number> = { 十: 1, 拾: 1, 百: 2, 佰: 2, 千: 3, 仟: 3 };
const BIG_UNITS: Record<string, number> = { 万: 4, 萬: 4, 亿: 8, 億: 8 };

export const CHINESE_NUMERAL_CHARS = [...Object.keys(DIGITS), ...Object.keys(SMALL_UNITS)].join('');

type Token =
  | { kind: 'num'; value: Decimal; chinese: boolean; zero: boolean }
  | { kind: 'unit'; power: number }
  | { kind: 'big'; power: number }
  | { kind: 'point' };

function tokenise(text: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    // Arabic numbers, with thousands separators only where they group by three.
    const arabic = /^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?/.exec(text.slice(i));
    if (arabic) {
      const value = parseDecimalText(arabic[0].replace(/,/g, '')) as Decimal;
      tokens.push({ kind: 'num', value, chinese: false, zero: false });
      i += arabic[0].length;
      if (text[i] === ',' || text[i] === '.') return `misplaced "${text[i]}" in the number`;
      continue;
    }
    if (ch in DIGITS) tokens.push({ kind: 'num', value: decimalOf(DIGITS[ch]), chinese: true, zero: DIGITS[ch] === 0 });
    else if (ch in SMALL_UNITS) tokens.push({ kind: 'unit', power: SMALL_UNITS[ch] });
    else if (ch in BIG_UNITS) tokens.push({ kind: 'big', power: BIG_UNITS[ch] });
    else if (ch === '点') tokens.push({ kind: 'point' });
    else return `unexpected character "${ch}"`;
    i += 1;
  }
  return tokens;
}

export type NumeralResult = { ok: true; value: Decimal; fromText: boolean } | { ok: false; reason: string };

/**
 * Reads a non-negative number written in Arabic digits, Chinese numerals or a mix of both, with
 * 万/亿 multipliers: `1,234.5`, `5万`, `1.2亿`, `5万3千`, `伍万`, `一百二十万`, `叁拾万零伍佰`,
 * `一点五万`, `二〇二五`. `fromText` is true when any part was written in Chinese numerals.
 * The spoken abbreviation `一万二` is read as 12000 (`一万零二` stays 10002).
 */
export function readNumeral(text: string): NumeralResult {
  if (text === '') return { ok: false, reason: 'no number' };
  const tokens = tokenise(text);
  if (typeof tokens === 'string') return { ok: false, reason: tokens };
  const fromText = tokens.some((t) => (t.kind === 'num' && t.chinese) || t.kind === 'unit');

  // 二〇二五, 一九八〇: digits without units are positional (years are written this way).
  if (tokens.length > 1 && tokens.every((t) => t.kind === 'num' && t.chinese)) {
    const digits = tokens.map((t) => (t.kind === 'num' ? t.value.coef.toString() : '')).join('');
    return { ok: true, value: decimalOf(BigInt(digits)), fromText };
  }

  let total = ZERO;
  let section = ZERO;
  let current: Decimal | null = null;
  let lastSmall = Infinity;
  let sawWan = false;
  let sawFraction = false;
  let sawAnyNumber = false;
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i];
    if (t.kind === 'num') {
      if (current !== null) return { ok: false, reason: 'two numbers in a row' };
      sawAnyNumber = true;
      if (!t.zero) current = t.value; // 零 only marks a skipped place (一万零二)
    } else if (t.kind === 'unit') {
      if (sawFraction || t.power >= lastSmall) return { ok: false, reason: 'numeral units out of order' };
      section = addDecimal(section, shiftDecimal(current ?? decimalOf(1), t.power));
      current = null;
      lastSmall = t.power;
      sawAnyNumber = true;
    } else if (t.kind === 'big') {
      const value = addDecimal(section, current ?? ZERO);
      if (!sawAnyNumber) return { ok: false, reason: `"${t.power === 4 ? '万' : '亿'}" without a number` };
      if (t.power === 4) {
        if (sawWan) return { ok: false, reason: '万 written twice' };
        total = addDecimal(total, shiftDecimal(value, 4));
        sawWan = true;
      } else {
        total = shiftDecimal(addDecimal(total, value), 8);
        sawWan = false;
      }
      section = ZERO;
      current = null;
      lastSmall = Infinity;
      sawFraction = false;
    } else {
      // 点 followed by digits: the fraction belongs to whatever was read just before it.
      let digits = '';
      while (i + 1 < tokens.length) {
        const next = tokens[i + 1];
        if (next.kind !== 'num' || !next.chinese) break;
        digits += next.value.coef.toString();
        i += 1;
      }
      if (digits === '' || sawFraction || !sawAnyNumber) return { ok: false, reason: 'malformed decimal point 点' };
      const frac = decimalOf(BigInt(digits), digits.length);
      if (current !== null) current = addDecimal(current, frac);
      else if (!isZero(section)) section = addDecimal(section, frac);
      else current = frac; // 零点五 (零 was skipped)
      sawFraction = true;
    }
  }

  const last = tokens[tokens.length - 1];
  const before = tokens[tokens.length - 2];
  if (current !== null && last.kind === 'num' && before && (before.kind === 'unit' || before.kind === 'big')) {
    if (!last.chinese && before.power > 1) {
      return { ok: false, reason: 'an Arabic number after a unit is ambiguous' };
    }
    // 一万二 = 12000, 三千五 = 3500: a trailing digit takes the next place down.
    current = shiftDecimal(current, before.power - 1);
  }
  return { ok: true, value: addDecimal(addDecimal(total, section), current ?? ZERO), fromText };
}

/**
 * Integer value of a Chinese (or Arabic) numeral: `十四` → 14n, `二〇二五` → 2025n,
 * `三十一` → 31n; `null` when the text is not a whole number.
 */
export function chineseNumeralToBigInt(text: string): bigint | null {
  const r = readNumeral(text);
  if (!r.ok) return null;
  const whole = r.value.coef / 10n ** BigInt(r.value.scale);
  return whole * 10n ** BigInt(r.value.scale) === r.value.coef ? whole : null;
}
