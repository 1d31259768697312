/**
 * Dates and timestamps as agencies write them: `2025年6月4日`, `2025/6/4 下午2:30`, `20250604`,
 * `二〇二五年六月四日`, ISO 8601, Excel serial numbers and epoch milliseconds.
 * Local times without a zone are Asia/Shanghai, a fixed UTC+8 (China has had no DST since 1991).
 */
import { fail, ok, type ParseResult } from './result';
import { CHINESE_NUMERAL_CHARS, chineseNumeralToBigInt, toHalfWidth } from './text';

const DAY_MS = 86_400_000;
const SHANGHAI_OFFSET_MIN = 480;
const MIN_YEAR = 1900;
const MAX_YEAR = 2100;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/** Why y-m-d is not a real calendar date, or null when it is. Shared with the ID-number parser. */
export function calendarDateProblem(y: number, m: number, d: number): string | null {
  if (m < 1 || m > 12) return `month ${m} does not exist`;
  if (d < 1 || d > daysInMonth(y, m)) {
    return m === 2 && d === 29 ? `29 February does not exist in ${y}` : `${d} ${MONTHS[m - 1]} does not exist`;
  }
  return null;
}

function daysFromCivil(y: number, m: number, d: number): number {
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

interface Fields { y: number; mo: number; d: number; h: number; mi: number; s: number; ms: number; offsetMin: number }

type Step<T> = { ok: true; value: T } | { ok: false; reason: string };
const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

// Excel's 1900 date system: serial 1 is 1900-01-01, and Excel wrongly counts a 29 February 1900
// (serial 60, kept for Lotus 1-2-3 compatibility). From serial 61 on, serials are one day ahead,
// which is why 25569 (not 25568) is 1970-01-01.
function fromExcelSerial(serial: number): Step<number> {
  const whole = Math.floor(serial);
  if (whole === 60) return bad('Excel serial 60 is 29 February 1900, a day that does not exist');
  if (whole < 1) return bad('Excel serials start at 1 (1900-01-01)');
  const days = whole < 60 ? whole - 25568 : whole - 25569;
  // The fraction is the time of day; round to the second because Excel stores 14:30 as 0.60416…
  const seconds = Math.round((serial - whole) * 86_400);
  return { ok: true, value: days * DAY_MS + seconds * 1000 - SHANGHAI_OFFSET_MIN * 60_000 };
}

function parseTime(rest: string): Step<Omit<Fields, 'y' | 'mo' | 'd'>> {
  let t = rest.trim().replace(/^T/i, '').trim();
  let offsetMin = SHANGHAI_OFFSET_MIN;
  const zone = /(Z|([+-])(\d{2}):?(\d{2})?)$/i.exec(t);
  if (zone) {
    offsetMin = zone[2] ? (zone[2] === '-' ? -1 : 1) * (Number(zone[3]) * 60 + Number(zone[4] ?? 0)) : 0;
    t = t.slice(0, zone.index).trim();
  }
  if (t === '') return { ok: true, value: { h: 0, mi: 0, s: 0, ms: 0, offsetMin } };
  const meridiem = /^(上午|早上|凌晨|中午|下午|晚上|傍晚)/.exec(t)?.[1] ?? /(AM|PM)$/i.exec(t)?.[1].toUpperCase();
  t = t.replace(/^(上午|早上|凌晨|中午|下午|晚上|傍晚)/, '').replace(/(AM|PM)$/i, '').trim();
  t = t.replace(/[时點点]/g, ':').replace(/分/g, ':').replace(/秒$/, '').replace(/：/g, ':');
  if (t.endsWith(':')) t += '00'; // 14时 → 14:00, 14时30分 → 14:30:00
  const m = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?$/.exec(t);
  if (!m) return bad(`time "${rest.trim()}" is not recognised`);
  let h = Number(m[1]);
  if (meridiem) {
    if (h > 12) return bad(`hour ${h} cannot follow ${meridiem}`);
    const afternoon = ['下午', '晚上', '傍晚', 'PM'].includes(meridiem) || (meridiem === '中午' && h < 11);
    if (afternoon && h < 12) h += 12;
    if (!afternoon && meridiem !== '中午' && h === 12) h = 0;
  }
  const mi = Number(m[2]);
  const s = Number(m[3] ?? 0);
  if (h > 23 || mi > 59 || s > 59) return bad(`${m[1]}:${m[2]} is not a time of day`);
  const ms = Number((m[4] ?? '').slice(0, 3).padEnd(3, '0'));
  return { ok: true, value: { h, mi, s, ms, offsetMin } };
}

// `二〇二五年六月十四日 下午两点` → `2025年6月14日 下午2点`: numerals are rewritten only where a
// date or time marker follows them, so no other text is touched.
const NUMERAL_BEFORE_MARKER = new RegExp(`[${CHINESE_NUMERAL_CHARS}]+(?=\\s*[年月日号时点分秒])`, 'g');

function parseCalendarText(s: string): Step<Fields> {
  const text = s
    .replace(NUMERAL_BEFORE_MARKER, (n) => chineseNumeralToBigInt(n)?.toString() ?? n)
    .replace(/(\d{1,2})\s*[点时]半/, '$1:30');
  let y: number, mo: number, d: number, rest: string;
  const compact = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$/.exec(text);
  const cn = /^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?/.exec(text);
  const sep = /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?!\d)/.exec(text);
  if (compact) {
    [y, mo, d] = [Number(compact[1]), Number(compact[2]), Number(compact[3])];
    rest = compact[4] ? `${compact[4]}:${compact[5]}:${compact[6] ?? '00'}` : '';
  } else if (cn || sep) {
    const m = (cn ?? sep) as RegExpExecArray;
    [y, mo, d] = cn ? [Number(m[1]), Number(m[2]), Number(m[3])] : [Number(m[1]), Number(m[3]), Number(m[4])];
    rest = text.slice(m[0].length);
  } else if (/^\d{4}\s*年?$/.test(text)) {
    return bad('a year alone is not a date');
  } else if (/^\d{4}\s*(年\s*\d{1,2}\s*月?|[-/.]\d{1,2})$/.test(text)) {
    return bad('the day of the month is missing');
  } else {
    return bad('not a recognised date format');
  }
  if (y < MIN_YEAR || y > MAX_YEAR) return bad(`year ${y} is outside ${MIN_YEAR}–${MAX_YEAR}`);
  const problem = calendarDateProblem(y, mo, d);
  if (problem) return bad(problem);
  const time = parseTime(rest);
  if (!time.ok) return time;
  return { ok: true, value: { y, mo, d, ...time.value } };
}

// What systems (rather than people) write: `2025-06-04`, `2025-06-04 14:30[:05]`, with `T`,
// fraction and `Z`/offset optional. Most records carry several such fields: read them directly.
const MACHINE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function readMachineFormat(input: string): Step<number> | undefined {
  const m = MACHINE.exec(input);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < MIN_YEAR || y > MAX_YEAR) return undefined; // let the general path explain
  const problem = calendarDateProblem(y, mo, d);
  if (problem) return bad(problem);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  if (h > 23 || mi > 59 || sec > 59) return undefined;
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const zone = m[8];
  const offsetMin =
    zone === undefined ? SHANGHAI_OFFSET_MIN : zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return { ok: true, value: daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi - offsetMin) * 60 + sec) * 1000 + ms };
}

function readInstant(input: string | number): Step<number> {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) return bad(`${input} is not a date`);
    if (Number.isInteger(input) && input >= 1e12 && input < 1e13) return { ok: true, value: input };
    if (Number.isInteger(input) && input >= 1e7 && input < 1e8) return readInstant(String(input));
    // A spreadsheet cell arrives as a number: any serial up to 99999 (year 2173) is plausible.
    if (input < 100_000) return fromExcelSerial(input);
    return bad(`${input} is neither an Excel serial, a yyyymmdd date nor 13-digit epoch milliseconds`);
  }
  const fast = readMachineFormat(input);
  if (fast !== undefined) return fast;
  const s = toHalfWidth(input).trim().replace(/\s+/g, ' ');
  if (s === '') return bad('date is empty');
  if (/^\d{13}$/.test(s)) return { ok: true, value: Number(s) };
  // In text, only five-digit serials count: a bare `2025` is far more likely a year than 1905-07-17.
  if (/^\d{5}(\.\d+)?$/.test(s)) return fromExcelSerial(Number(s));
  const f = parseCalendarText(s);
  if (!f.ok) return f;
  const { y, mo, d, h, mi, s: sec, ms, offsetMin } = f.value;
  return { ok: true, value: daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi - offsetMin) * 60 + sec) * 1000 + ms };
}

/**
 * An instant in time, as UTC epoch milliseconds.
 * Example: `parseTimestamp('2025年06月04日 14时30分')` → ok `{ millis: 1749018600000, iso: '2025-06-04T06:30:00.000Z' }`.
 */
export function parseTimestamp(input: string | number): ParseResult<{ millis: number; iso: string }> {
  const r = readInstant(input);
  if (!r.ok) return fail('BAD_DATE', r.reason);
  return ok({ millis: r.value, iso: new Date(r.value).toISOString() });
}

/**
 * A calendar date as an Avro date (days since 1970-01-01). An input with a time is reduced to its
 * date in Shanghai, the date the agency itself would write.
 * Example: `parseDate('2025年6月4日')` → ok `{ days: 20243, iso: '2025-06-04' }`.
 */
export function parseDate(input: string | number): ParseResult<{ days: number; iso: string }> {
  const r = readInstant(input);
  if (!r.ok) return fail('BAD_DATE', r.reason);
  const days = Math.floor((r.value + SHANGHAI_OFFSET_MIN * 60_000) / DAY_MS);
  return ok({ days, iso: new Date(days * DAY_MS).toISOString().slice(0, 10) });
}
