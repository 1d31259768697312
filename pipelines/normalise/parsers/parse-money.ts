/**
 * Money in CNY yuan as an exact decimal(18,2) string: `5万元`, `¥1,234.50`, `伍万元整`,
 * `叁拾万零伍佰元`, `1.2亿元`. Text never passes through binary floating point.
 */
import { addDecimal, type Decimal, formatDecimal, integerDigits, roundDecimal, shiftDecimal } from './decimal';
import { fail, ok, type ParseResult } from './result';
import { approximateMarker, compactText, readNumeral } from './text';

export type MoneyUnit = '元' | '万元';

const MAX_INTEGER_DIGITS = 16; // decimal(18,2)

// Currency words that say nothing about the amount. 圆 is the formal 元 on cheques and receipts.
const CURRENCY_PREFIX = /^(?:¥|￥|RMB|CNY|人民币)+/i;
const CURRENCY_SUFFIX = /(?:RMB|CNY)$/i;

function readSubunits(rest: string): { ok: true; value: Decimal; fromText: boolean } | { ok: false; reason: string } {
  // After 元 only 角 (0.1) and 分 (0.01) may follow, each one digit: 伍佰元伍角陆分, 5元5角.
  const m = /^(?:零)?(?:(.)角)?(?:零)?(?:(.)分)?$/.exec(rest);
  if (!m) return { ok: false, reason: `"${rest}" after 元 is not 角 or 分` };
  let value: Decimal = { coef: 0n, scale: 2 };
  let fromText = false;
  for (const [digit, power] of [[m[1], -1], [m[2], -2]] as const) {
    if (digit === undefined) continue;
    const n = readNumeral(digit);
    if (!n.ok || n.value.scale !== 0 || n.value.coef > 9n) return { ok: false, reason: `"${digit}" is not one digit` };
    fromText ||= n.fromText;
    value = addDecimal(value, shiftDecimal(n.value, power));
  }
  return { ok: true, value, fromText };
}

/**
 * Example: `parseMoney('5万元')` → ok `{ yuan: '50000.00' }`; `parseMoney('伍万元整')` → the same
 * with warning `AMOUNT_FROM_TEXT`; `parseMoney(5, { unit: '万元' })` → `'50000.00'`.
 * `options.unit` is the unit of a bare number (sources that publish fines in 万元); a unit written
 * in the text always wins. Approximate (`约5万`, `五万多元`) and negative amounts fail.
 */
export function parseMoney(input: string | number, options: { unit?: MoneyUnit } = {}): ParseResult<{ yuan: string }> {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return fail('BAD_AMOUNT', 'amount is not a finite number');
    if (input < 0) return fail('BAD_AMOUNT', 'negative amounts are not accepted');
    // String(n) is the shortest text that reads back as n: treat it as the decimal the source meant.
    if (/e/i.test(String(input))) return fail('BAD_AMOUNT', 'amount is too large or too small to be money');
  }
  let s = compactText(String(input));
  if (s === '') return fail('BAD_AMOUNT', 'amount is empty');
  const approx = approximateMarker(s);
  if (approx) return fail('BAD_AMOUNT', `amount is approximate ("${approx}"), not an exact figure`);
  if (/^[-−]|^负/.test(s.replace(CURRENCY_PREFIX, ''))) return fail('BAD_AMOUNT', 'negative amounts are not accepted');

  s = s.replace(CURRENCY_PREFIX, '').replace(CURRENCY_SUFFIX, '').replace(/[整正]$/, '');
  const split = /^(.*?)(?:[元圆](.*))?$/.exec(s) as RegExpExecArray;
  const [main, rest] = [split[1], split[2]];
  if (main === '') return fail('BAD_AMOUNT', 'no number before 元');
  const n = readNumeral(main);
  if (!n.ok) return fail('BAD_AMOUNT', `amount not understood: ${n.reason}`);

  let yuan = n.value;
  // A bare number takes the source's declared unit; `5万元` or `500元` already says its own.
  if (options.unit === '万元' && rest === undefined && !/[万萬亿億]/.test(main)) yuan = shiftDecimal(yuan, 4);
  let fromText = n.fromText;
  if (rest !== undefined && rest !== '') {
    const sub = readSubunits(rest);
    if (!sub.ok) return fail('BAD_AMOUNT', sub.reason);
    yuan = addDecimal(yuan, sub.value);
    fromText ||= sub.fromText;
  }

  const { value, rounded } = roundDecimal(yuan, 2);
  if (integerDigits(value) > MAX_INTEGER_DIGITS) {
    return fail('BAD_AMOUNT', `amount has more than ${MAX_INTEGER_DIGITS} digits before the point (decimal(18,2))`);
  }
  const warnings: string[] = [];
  if (fromText) warnings.push('AMOUNT_FROM_TEXT');
  if (rounded) warnings.push('AMOUNT_ROUNDED');
  return ok({ yuan: formatDecimal(value) }, warnings);
}
