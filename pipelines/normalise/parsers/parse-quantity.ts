/**
 * Quantities the transfer thresholds are written in: land area in 亩, timber in m³, hazardous
 * waste in tonnes. Canonical `measures.value` is an Avro double, so results are numbers; the
 * conversion itself is done in exact decimals and rounded once, so `3000平方米` always gives the
 * same double.
 */
import { type Decimal, divideDecimal, formatDecimal, mulDecimal, parseDecimalText } from './decimal';
import { fail, ok, type ParseResult } from './result';
import { approximateMarker, compactText, readNumeral } from './text';

/** value × num ÷ den converts one unit to the canonical one. */
interface Conversion { aliases: string[]; num: string; den: string }

const dec = (s: string): Decimal => parseDecimalText(s) as Decimal;

// Area → 亩. 1 公顷 = 15 亩 by definition, so 1 平方公里 (100 公顷) = 1500 亩; a square metre is
// 1/666.67 亩, the divisor the reference and the agencies' own forms use.
const AREA: Conversion[] = [
  { aliases: ['亩', '畝', 'mu'], num: '1', den: '1' },
  { aliases: ['公顷', 'hm²', 'hm2', 'ha'], num: '15', den: '1' },
  { aliases: ['平方米', '平米', '平方', '㎡', 'm²', 'm2'], num: '1', den: '666.67' },
  { aliases: ['平方公里', '平方千米', 'km²', 'km2'], num: '1500', den: '1' },
];
// Volume → m³. 方 is how forestry and construction reports write a cubic metre.
const VOLUME: Conversion[] = [
  { aliases: ['立方米', '立方', '方', 'm³', 'm3'], num: '1', den: '1' },
];
// Weight → tonnes. 斤 (half a kilogram) still appears in market-supervision reports.
const WEIGHT: Conversion[] = [
  { aliases: ['吨', '公吨', 't'], num: '1', den: '1' },
  { aliases: ['千克', '公斤', 'kg'], num: '1', den: '1000' },
  { aliases: ['斤'], num: '1', den: '2000' },
  { aliases: ['克', 'g'], num: '1', den: '1000000' },
];

function findConversion(table: Conversion[], unit: string): Conversion | undefined {
  return table.find((c) => c.aliases.includes(unit.toLowerCase()));
}

function parseQuantity<U extends string>(
  input: string | number,
  table: Conversion[],
  unit: U,
  scale: number,
  declaredUnit: string | undefined,
): ParseResult<{ value: number; unit: U }> {
  const declared = declaredUnit === undefined ? undefined : findConversion(table, declaredUnit);
  if (declaredUnit !== undefined && declared === undefined) {
    // A source's configuration named a unit this family does not know: a setup bug, not data.
    throw new TypeError(`unknown unit "${declaredUnit}" for ${unit}`);
  }
  if (typeof input === 'number' && (!Number.isFinite(input) || /e/i.test(String(input)))) {
    return fail('BAD_QUANTITY', 'quantity is not a plain finite number');
  }
  const s = compactText(String(input));
  if (s === '') return fail('BAD_QUANTITY', 'quantity is empty');
  const approx = approximateMarker(s);
  if (approx) return fail('BAD_QUANTITY', `quantity is approximate ("${approx}"), not an exact figure`);
  if (/^[-−]|^负/.test(s)) return fail('BAD_QUANTITY', 'negative quantities are not accepted');

  // Longest alias first, so 平方公里 is not read as 公里 and 千克 not as 克.
  const aliases = table.flatMap((c) => c.aliases.map((a) => ({ a, c }))).sort((x, y) => y.a.length - x.a.length);
  const hit = aliases.find(({ a }) => s.toLowerCase().endsWith(a));
  const conversion = hit?.c ?? declared;
  if (!conversion) {
    const known = table.flatMap((c) => c.aliases).join(', ');
    return readNumeral(s).ok
      ? fail('BAD_QUANTITY', `no unit of ${unit} given`)
      : fail('BAD_QUANTITY', `unit not recognised (expected one of ${known})`);
  }
  const numberText = hit ? s.slice(0, s.length - hit.a.length) : s;
  const n = readNumeral(numberText);
  if (!n.ok) return fail('BAD_QUANTITY', `quantity not understood: ${n.reason}`);

  const converted = divideDecimal(mulDecimal(n.value, dec(conversion.num)), dec(conversion.den), scale);
  return ok({ value: Number(formatDecimal(converted)), unit }, n.fromText ? ['QUANTITY_FROM_TEXT'] : []);
}

/**
 * Area in 亩, rounded to 4 decimals.
 * Example: `parseArea('0.5公顷')` → ok `{ value: 7.5, unit: 'mu' }`; `parseArea('3000平方米')` → 4.5 (4.49997…).
 * `options.unit` names the unit of a bare number (`'亩'`, `'平方米'`, `'公顷'`…).
 */
export function parseArea(input: string | number, options: { unit?: string } = {}): ParseResult<{ value: number; unit: 'mu' }> {
  return parseQuantity(input, AREA, 'mu', 4, options.unit);
}

/** Volume in m³, rounded to 4 decimals. Example: `parseVolume('5.2方')` → ok `{ value: 5.2, unit: 'm3' }`. */
export function parseVolume(input: string | number, options: { unit?: string } = {}): ParseResult<{ value: number; unit: 'm3' }> {
  return parseQuantity(input, VOLUME, 'm3', 4, options.unit);
}

/** Weight in tonnes, rounded to 6 decimals (a gram). Example: `parseWeight('3500kg')` → ok `{ value: 3.5, unit: 't' }`. */
export function parseWeight(input: string | number, options: { unit?: string } = {}): ParseResult<{ value: number; unit: 't' }> {
  return parseQuantity(input, WEIGHT, 't', 6, options.unit);
}
