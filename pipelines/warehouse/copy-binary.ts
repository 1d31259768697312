/**
 * PostgreSQL's binary COPY format, for the sink's staging load: each field is its length and
 * its bytes, so neither side escapes or scans the JSON records, which are most of the bytes
 * (the text format's escaping and parsing were about a quarter of the staging COPY's CPU).
 *
 * @example
 *   const rows = new BinaryRows(4096);
 *   rows.header();
 *   rows.row(2); rows.int32(1); rows.text('CASE-1');
 *   rows.trailer();
 *   copyStream.write(rows.take());
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 2 ** 32;

export class BinaryRows {
  private buf: Buffer;
  private len = 0;

  constructor(private readonly size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** The file header: signature, flags (none), header extension (none). */
  header(): void {
    this.ensure(SIGNATURE.length + 8);
    this.len += SIGNATURE.copy(this.buf, this.len);
    this.len = this.buf.writeInt32BE(0, this.len);
    this.len = this.buf.writeInt32BE(0, this.len);
  }

  /** The end of the data. */
  trailer(): void {
    this.ensure(2);
    this.len = this.buf.writeInt16BE(-1, this.len);
  }

  /** A row's start: how many fields follow. */
  row(fields: number): void {
    this.ensure(2);
    this.len = this.buf.writeInt16BE(fields, this.len);
  }

  null(): void {
    this.ensure(4);
    this.len = this.buf.writeInt32BE(-1, this.len);
  }

  bool(value: boolean): void {
    this.ensure(5);
    this.len = this.buf.writeInt32BE(1, this.len);
    this.buf[this.len++] = value ? 1 : 0;
  }

  int32(value: number): void {
    this.ensure(8);
    this.len = this.buf.writeInt32BE(4, this.len);
    this.len = this.buf.writeInt32BE(value, this.len);
  }

  /** A text (or varchar) field, UTF-8. */
  text(value: string): void {
    const size = Buffer.byteLength(value, 'utf8');
    this.ensure(4 + size);
    this.len = this.buf.writeInt32BE(size, this.len);
    this.len += this.buf.write(value, this.len, size, 'utf8');
  }

  /** A jsonb field: format version 1, then the JSON text (UTF-8 bytes or a string). */
  jsonb(json: Buffer | string): void {
    const size = typeof json === 'string' ? Buffer.byteLength(json, 'utf8') : json.length;
    this.ensure(5 + size);
    this.len = this.buf.writeInt32BE(size + 1, this.len);
    this.buf[this.len++] = 1;
    this.len += typeof json === 'string' ? this.buf.write(json, this.len, size, 'utf8') : json.copy(this.buf, this.len);
  }

  /** A timestamptz field: microseconds since PostgreSQL's epoch, as a 64-bit integer. */
  timestamptz(micros: Micros): void {
    this.ensure(12);
    this.len = this.buf.writeInt32BE(8, this.len);
    if (typeof micros === 'bigint') {
      this.len = this.buf.writeBigInt64BE(micros, this.len);
      return;
    }
    const high = Math.floor(micros / TWO_32);
    this.len = this.buf.writeInt32BE(high, this.len);
    this.len = this.buf.writeUInt32BE(micros - high * TWO_32, this.len);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** The bytes written so far; writing goes on in a new buffer of the size first given (not of one grown for a large row). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafe(this.size);
    this.len = 0;
    return out;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/**
 * Microseconds since PostgreSQL's epoch: a number while a double holds them exactly (about
 * 285 years either side of 2000, every time the hub meets in practice), a bigint beyond.
 */
export type Micros = number | bigint;

/** Unix milliseconds and the microseconds within the last of them as microseconds since PostgreSQL's epoch. */
export function micros(unixMs: number, within = 0): Micros {
  const value = (unixMs - PG_EPOCH_MS) * 1000 + within;
  return Number.isSafeInteger(value) ? value : BigInt(unixMs - PG_EPOCH_MS) * 1000n + BigInt(within);
}

const FRACTION = /\.(\d+)/;
const ZERO = 48;

/** The number written by the digits of `text` from `start` to `end`, or NaN where one is not a digit. */
function digits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Days from 1970-01-01 to a civil date of the proleptic Gregorian calendar (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, the form the canonical records' times take, read by arithmetic; NaN for any other text. */
function canonicalMillis(text: string): number {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */ || text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':' || text[19] !== '.') return NaN;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  const ms = digits(text, 20, 23);
  // Anything out of range (or a 29 February outside a leap year) goes to Date.parse and its checks.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= DAYS_IN_MONTH[month - 1] && hour < 24 && minute < 60 && second < 60) || ms !== ms) return NaN;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return NaN;
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
}

/**
 * An ISO 8601 time with its offset (as the canonical records write them) as microseconds since
 * PostgreSQL's epoch, the value timestamptz stores: the digits of the fraction beyond the
 * millisecond are kept to the microsecond. A text without an offset is refused: PostgreSQL
 * would read it in the session's time zone, JavaScript in the process's.
 */
export function isoMicros(text: string): Micros {
  const canonical = canonicalMillis(text);
  if (canonical === canonical) return micros(canonical);
  const ms = Date.parse(text);
  const date = /^(\d{4})-(\d\d)-(\d\d)/.exec(text);
  // Date.parse rolls 30 February over into March; PostgreSQL refuses it, and so do we.
  const realDay = date !== null && Number(date[3]) <= new Date(Date.UTC(Number(date[1]), Number(date[2]), 0)).getUTCDate();
  if (Number.isNaN(ms) || !realDay || !/(?:Z|[+-]\d\d(?::?\d\d)?)$/.test(text)) throw new RangeError(`not an ISO time with an offset: ${JSON.stringify(text)}`);
  const fraction = FRACTION.exec(text)?.[1] ?? '';
  if (fraction.length <= 3) return micros(ms);
  // Date.parse keeps the first three digits; the next three are the microseconds within, rounded on the seventh.
  return micros(ms, Number(fraction.slice(3, 6).padEnd(3, '0')) + (fraction.length > 6 && fraction[6] >= '5' ? 1 : 0));
}
