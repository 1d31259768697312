/**
 * Resident ID numbers 居民身份证号码 (GB 11643-1999). The raw number is personal data: nothing
 * here puts it in a message, and callers keep only the keyed hash and the masked form.
 */
import { keyedHash } from './keyed-hash';
import { calendarDateProblem } from './parse-date';
import { fail, ok, type ParseResult } from './result';
import { compactText } from './text';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/**
 * The `today` used when a caller gives none. A parser must not read the clock, and a fixed
 * "today" in the past would start rejecting newborns' numbers the day after it, so the default
 * only enforces the calendar; normalisers pass the record's ingest date to reject future births.
 */
export const ID_DEFAULT_TODAY = '2099-12-31';

/** ISO 7064 MOD 11-2 check character for the first 17 digits. */
export function idCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new TypeError('idCheckChar needs 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

function birthProblem(yyyymmdd: string, today: string): string | null {
  const [y, m, d] = [Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)), Number(yyyymmdd.slice(6, 8))];
  if (y < 1900) return 'birth year is before 1900';
  const problem = calendarDateProblem(y, m, d);
  // Not the checker's own wording: that names the day and year, which are part of the number.
  if (problem) return `birth date is not a real calendar date (${problem.startsWith('month') ? 'no such month' : 'no such day in that month'})`;
  if (yyyymmdd > today.replace(/-/g, '')) return 'birth date is in the future';
  return null;
}

/**
 * Normalises to the 18-character form: trims, folds full-width, drops inner spaces, upper-cases
 * `x`, converts old 15-digit numbers (inserting `19` and computing the check).
 * Example: `normaliseIdNumber('11010519491231002x')` → ok `'11010519491231002X'`.
 * `today` is `YYYY-MM-DD`; a birth date after it fails.
 */
export function normaliseIdNumber(input: string, today: string = ID_DEFAULT_TODAY): ParseResult<string> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new TypeError('today must be written YYYY-MM-DD');
  const id = compactText(input).toUpperCase();
  if (id === '') return fail('BAD_ID_NUMBER', 'ID number is empty');
  if (id.length === 15) {
    if (!/^\d{15}$/.test(id)) return fail('BAD_ID_NUMBER', 'a 15-character ID number must be all digits');
    const problem = birthProblem(`19${id.slice(6, 12)}`, today);
    if (problem) return fail('BAD_ID_NUMBER', problem);
    const first17 = `${id.slice(0, 6)}19${id.slice(6)}`;
    return ok(first17 + idCheckChar(first17));
  }
  if (id.length !== 18) return fail('BAD_ID_NUMBER', `ID number must have 18 or 15 characters, got ${id.length}`);
  if (!/^\d{17}[\dX]$/.test(id)) {
    return fail('BAD_ID_NUMBER', 'ID number must be 17 digits followed by a digit or X');
  }
  const problem = birthProblem(id.slice(6, 14), today);
  if (problem) return fail('BAD_ID_NUMBER', problem);
  if (idCheckChar(id.slice(0, 17)) !== id[17]) {
    return fail('BAD_ID_NUMBER', 'check character does not match (ISO 7064 MOD 11-2)');
  }
  return ok(id);
}

/** HMAC-SHA256 hex of the normalised 18-character number: the key for matching people. */
export function hashIdNumber(normalised18: string, secret: string): string {
  return keyedHash(normalised18, secret);
}

/** Keeps the first 6 and last 4 characters: `11010519491231002X` → `110105********002X`. */
export function maskIdNumber(normalised: string): string {
  if (normalised.length <= 10) return '*'.repeat(normalised.length);
  return normalised.slice(0, 6) + '*'.repeat(normalised.length - 10) + normalised.slice(-4);
}

/**
 * Normalises, then returns only what may be stored: the keyed hash and the masked form.
 * Example: `parseIdNumber('11010519491231002X', secret)` → ok `{ hash: '…64 hex…', masked: '110105********002X' }`.
 */
export function parseIdNumber(
  input: string,
  secret: string,
  today: string = ID_DEFAULT_TODAY,
): ParseResult<{ hash: string; masked: string }> {
  const r = normaliseIdNumber(input, today);
  if (!r.ok) return r;
  return ok({ hash: hashIdNumber(r.value, secret), masked: maskIdNumber(r.value) });
}
