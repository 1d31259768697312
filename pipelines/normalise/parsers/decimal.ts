/**
 * Exact decimal arithmetic on BigInt, so amounts written as text never pass through binary
 * floating point (0.1 + 0.2 must stay 0.3 when a fine is summed or converted from 万元).
 * A value is `coef / 10^scale`; scale is never negative.
 */
export interface Decimal {
  readonly coef: bigint;
  readonly scale: number;
}

export const ZERO: Decimal = { coef: 0n, scale: 0 };

export function decimalOf(coef: bigint | number, scale = 0): Decimal {
  return { coef: BigInt(coef), scale };
}

/** Plain ASCII decimal text (`123`, `0.5`, `1234.567`), nothing else; `null` otherwise. */
export function parseDecimalText(text: string): Decimal | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  return { coef: BigInt(m[1] + frac), scale: frac.length };
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function align(a: Decimal, scale: number): bigint {
  return a.coef * pow10(scale - a.scale);
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { coef: align(a, scale) + align(b, scale), scale };
}

export function mulDecimal(a: Decimal, b: Decimal): Decimal {
  return { coef: a.coef * b.coef, scale: a.scale + b.scale };
}

/** Multiplies by 10^power (power may be negative: 万 is +4, 角 is −1). */
export function shiftDecimal(a: Decimal, power: number): Decimal {
  if (power >= 0) {
    const drop = Math.min(power, a.scale);
    return { coef: a.coef * pow10(power - drop), scale: a.scale - drop };
  }
  return { coef: a.coef, scale: a.scale - power };
}

export function isZero(a: Decimal): boolean {
  return a.coef === 0n;
}

/** Integer division of non-negative values, rounding half up. */
function divHalfUp(num: bigint, den: bigint): bigint {
  const q = num / den;
  return (num % den) * 2n >= den ? q + 1n : q;
}

/**
 * Rounds half up to exactly `scale` fraction digits; `rounded` says whether non-zero digits were
 * dropped, so callers can warn that the stored value differs from what the source wrote.
 */
export function roundDecimal(a: Decimal, scale: number): { value: Decimal; rounded: boolean } {
  if (a.scale <= scale) return { value: { coef: align(a, scale), scale }, rounded: false };
  const den = pow10(a.scale - scale);
  return { value: { coef: divHalfUp(a.coef, den), scale }, rounded: a.coef % den !== 0n };
}

/** a / b rounded half up to `scale` digits (non-negative operands, b ≠ 0). */
export function divideDecimal(a: Decimal, b: Decimal, scale: number): Decimal {
  // a/b = (a.coef / 10^a.scale) / (b.coef / 10^b.scale); scale the numerator so the quotient
  // carries `scale` fraction digits.
  const num = a.coef * pow10(b.scale + scale);
  const den = b.coef * pow10(a.scale);
  return { coef: divHalfUp(num, den), scale };
}

/** Number of digits before the decimal point (0 counts as one digit). */
export function integerDigits(a: Decimal): number {
  return (a.coef / pow10(a.scale)).toString().length;
}

/** Fixed-point text with exactly `a.scale` fraction digits: `{coef 500000n, scale 2}` → `5000.00`. */
export function formatDecimal(a: Decimal): string {
  const sign = a.coef < 0n ? '-' : '';
  const digits = (a.coef < 0n ? -a.coef : a.coef).toString().padStart(a.scale + 1, '0');
  if (a.scale === 0) return sign + digits;
  return `${sign}${digits.slice(0, -a.scale)}.${digits.slice(-a.scale)}`;
}
