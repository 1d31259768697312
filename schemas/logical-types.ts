import { Type, types, type Schema } from 'avsc';
import { ValidationError } from '../lib/errors';

/**
 * Avro logical types for avsc, so that records carry the values people read and compare:
 *
 * | Avro                         | JS value                                   |
 * |------------------------------|--------------------------------------------|
 * | bytes/fixed `decimal(p, s)`  | string with exactly `s` fraction digits: `"50000.00"` |
 * | int `date`                   | `'YYYY-MM-DD'`: `'2025-06-04'`             |
 * | long `timestamp-millis`      | ISO-8601 UTC with milliseconds: `'2025-06-04T06:30:00.000Z'` |
 *
 * Decimals never pass through binary floating point: the string is split into digits and
 * encoded as the two's-complement big-endian unscaled integer (a `BigInt`), which is exactly
 * what Java's `BigDecimal.unscaledValue().toByteArray()` writes. On input, dates and timestamps
 * also take a number (days / epoch milliseconds), a timestamp also a `Date`, and a decimal a
 * `bigint` (whole units); a decimal refuses JS numbers, which are binary floating point.
 *
 * @example
 *   const type = Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES });
 *   type.fromBuffer(type.toBuffer({ fine_amount: '50000.00', decided_on: '2025-06-04' }));
 */

export const MS_PER_DAY = 86_400_000;
/** Whether a day number (since 1970-01-01) falls between 0000-01-01 and 9999-12-31: the years ISO 8601 writes with four digits. */
export const fourDigitYear = (days: number): boolean => days >= -719_528 && days <= 2_932_896;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** The parameters a logical type reads from its schema (avsc passes the whole schema object). */
interface LogicalSchema {
  precision?: unknown;
  scale?: unknown;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'Invalid' : value.toISOString()})`;
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  return Object.prototype.toString.call(value);
}

// ---------------------------------------------------------------------------------------------
// decimal

const DECIMAL_PATTERN = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/**
 * avsc asks every logical branch of a union whether it takes a value, null included, and its
 * default check does so by converting and catching the error. Answering for null up front keeps
 * nullable logical fields cheap (no exception per record).
 */
abstract class NullRefusingLogicalType extends types.LogicalType {
  _check(value: unknown, flags?: unknown, hook?: (value: unknown, type: Type) => void, path?: string[]): boolean {
    if (value === null || value === undefined) {
      hook?.(value, this);
      return false;
    }
    return (types.LogicalType.prototype as unknown as { _check: (...args: unknown[]) => boolean })._check.call(this, value, flags, hook, path);
  }
}

/** `decimal(precision, scale)` on `bytes` (or `fixed`) ↔ a decimal string with `scale` fraction digits. */
export class DecimalType extends NullRefusingLogicalType {
  readonly precision: number;
  readonly scale: number;
  private readonly limit: bigint;
  private readonly fixedSize: number | undefined;

  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    const { precision, scale = 0 } = schema as LogicalSchema;
    if (!Number.isSafeInteger(precision) || (precision as number) < 1) {
      throw new Error(`decimal: precision must be a positive integer, got ${JSON.stringify(precision)}`);
    }
    if (!Number.isSafeInteger(scale) || (scale as number) < 0 || (scale as number) > (precision as number)) {
      throw new Error(`decimal: scale must be an integer between 0 and the precision, got ${JSON.stringify(scale)}`);
    }
    const underlying = this.underlyingType;
    if (Type.isType(underlying, 'fixed')) {
      this.fixedSize = (underlying as types.FixedType).size;
    } else if (!Type.isType(underlying, 'bytes')) {
      throw new Error(`decimal: the underlying type must be bytes or fixed, got ${underlying.typeName}`);
    }
    this.precision = precision as number;
    this.scale = scale as number;
    this.limit = 10n ** BigInt(this.precision);
  }

  /** The label used in error messages, e.g. `decimal(18,2)`. */
  get label(): string {
    return `decimal(${this.precision},${this.scale})`;
  }

  /** Parses a decimal string (or a bigint, taken as a whole number) into its unscaled integer. */
  toUnscaled(value: unknown): bigint {
    let unscaled: bigint;
    if (typeof value === 'bigint') {
      unscaled = value * 10n ** BigInt(this.scale);
    } else if (typeof value === 'string') {
      const match = DECIMAL_PATTERN.exec(value);
      if (!match) {
        throw new ValidationError(this.label, 'BAD_DECIMAL', `${show(value)} is not a plain decimal string such as "50000.00"`);
      }
      const [, sign, whole, fraction = ''] = match;
      const excess = fraction.slice(this.scale);
      if (/[^0]/.test(excess)) {
        throw new ValidationError(this.label, 'BAD_DECIMAL', `${show(value)} has more than ${this.scale} fraction digits; round it before encoding`);
      }
      const digits = whole + fraction.slice(0, this.scale).padEnd(this.scale, '0');
      unscaled = BigInt(digits) * (sign === '-' ? -1n : 1n);
    } else if (typeof value === 'number') {
      throw new ValidationError(this.label, 'BAD_DECIMAL', `${value} is a binary floating-point number; pass decimals as strings (e.g. "${value}")`);
    } else {
      throw new ValidationError(this.label, 'BAD_DECIMAL', `${show(value)} is not a decimal string`);
    }
    if (unscaled >= this.limit || unscaled <= -this.limit) {
      throw new ValidationError(this.label, 'BAD_DECIMAL', `${show(value)} has more than ${this.precision} significant digits`);
    }
    return unscaled;
  }

  /** Formats an unscaled integer as the canonical decimal string. */
  fromUnscaled(unscaled: bigint): string {
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled).toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = digits.slice(digits.length - this.scale);
    return (negative ? '-' : '') + whole + (this.scale > 0 ? `.${fraction}` : '');
  }

  protected override _fromValue(buf: Buffer): string {
    return this.fromUnscaled(fromTwosComplement(buf));
  }

  protected override _toValue(value: unknown): Buffer {
    const bytes = toTwosComplement(this.toUnscaled(value));
    if (this.fixedSize === undefined) return bytes;
    if (bytes.length > this.fixedSize) {
      throw new ValidationError(this.label, 'BAD_DECIMAL', `${show(value)} does not fit in ${this.fixedSize} bytes`);
    }
    // Sign-extend to the fixed size.
    const out = Buffer.alloc(this.fixedSize, bytes[0] & 0x80 ? 0xff : 0x00);
    bytes.copy(out, this.fixedSize - bytes.length);
    return out;
  }

  protected override _resolve(writer: Type): ((value: unknown) => string) | undefined {
    if (writer instanceof DecimalType) {
      // Same scale only (as in Avro's own rules); re-check against this reader's precision.
      if (writer.scale !== this.scale) return undefined;
      return (value) => this.fromUnscaled(this.toUnscaled(value));
    }
    if (Type.isType(writer, 'bytes', 'fixed')) return (value) => this._fromValue(value as Buffer);
    return undefined;
  }

  protected override _export(schema: Schema): void {
    Object.assign(schema, { precision: this.precision, scale: this.scale });
  }

  /** Numeric order (the bytes' lexicographic order is not the numbers' order). */
  override compare(a: unknown, b: unknown): number {
    const x = this.toUnscaled(a);
    const y = this.toUnscaled(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
}

/** Minimal two's-complement big-endian bytes, as Java's `BigInteger.toByteArray()`. */
export function toTwosComplement(n: bigint): Buffer {
  let bytes = 1;
  // The smallest width whose signed range holds n.
  while (n >= 1n << BigInt(8 * bytes - 1) || n < -(1n << BigInt(8 * bytes - 1))) bytes += 1;
  const unsigned = n < 0n ? (1n << BigInt(8 * bytes)) + n : n;
  return Buffer.from(unsigned.toString(16).padStart(bytes * 2, '0'), 'hex');
}

/** The signed integer held in two's-complement big-endian bytes (empty bytes read as 0). */
export function fromTwosComplement(buf: Buffer): bigint {
  if (buf.length === 0) return 0n;
  const unsigned = BigInt(`0x${buf.toString('hex')}`);
  return buf[0] & 0x80 ? unsigned - (1n << BigInt(8 * buf.length)) : unsigned;
}

// ---------------------------------------------------------------------------------------------
// date

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `date` on `int` (days since 1970-01-01) ↔ `'YYYY-MM-DD'`. */
export class DateType extends NullRefusingLogicalType {
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    if (!Type.isType(this.underlyingType, 'int')) throw new Error(`date: the underlying type must be int, got ${this.underlyingType.typeName}`);
  }

  protected override _fromValue(days: number): string {
    return formatDays(days);
  }

  protected override _toValue(value: unknown): number {
    if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX) return value;
      throw new ValidationError('date', 'BAD_DATE', `${value} is not a whole number of days since 1970-01-01 in the int range`);
    }
    if (typeof value === 'string') return parseDate(value);
    throw new ValidationError('date', 'BAD_DATE', `${show(value)} is not a 'YYYY-MM-DD' string or a number of days`);
  }

  protected override _resolve(writer: Type): ((value: unknown) => string) | undefined {
    if (writer instanceof DateType) return (value) => value as string;
    if (Type.isType(writer, 'int')) return (value) => formatDays(value as number);
    return undefined;
  }
}

/** Days since 1970-01-01 of a real calendar date written `YYYY-MM-DD`. */
export function parseDate(text: string): number {
  const match = DATE_PATTERN.exec(text);
  const ms = match ? utcMillis(Number(match[1]), Number(match[2]), Number(match[3]), 0, 0, 0, 0) : undefined;
  if (ms === undefined) throw new ValidationError('date', 'BAD_DATE', `${JSON.stringify(text)} is not a calendar date written YYYY-MM-DD`);
  return ms / MS_PER_DAY;
}

export function formatDays(days: number): string {
  return isoMillis(days * MS_PER_DAY).slice(0, -14);
}

// ---------------------------------------------------------------------------------------------
// timestamp-millis

// Date and time with an explicit offset; seconds and up to 3 fraction digits are optional.
const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;

/** `timestamp-millis` on `long` ↔ ISO-8601 UTC with milliseconds, `'2025-06-04T06:30:00.000Z'`. */
export class TimestampMillisType extends NullRefusingLogicalType {
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    if (!Type.isType(this.underlyingType, 'long')) throw new Error(`timestamp-millis: the underlying type must be long, got ${this.underlyingType.typeName}`);
  }

  protected override _fromValue(ms: number): string {
    return formatMillis(ms);
  }

  protected override _toValue(value: unknown): number {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) return value;
      throw new ValidationError('timestamp-millis', 'BAD_TIMESTAMP', `${value} is not a whole number of epoch milliseconds`);
    }
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
    if (typeof value === 'string') return parseTimestamp(value);
    throw new ValidationError('timestamp-millis', 'BAD_TIMESTAMP', `${show(value)} is not an ISO-8601 timestamp, a Date or epoch milliseconds`);
  }

  protected override _resolve(writer: Type): ((value: unknown) => string) | undefined {
    if (writer instanceof TimestampMillisType) return (value) => value as string;
    if (Type.isType(writer, 'long', 'int')) return (value) => formatMillis(value as number);
    return undefined;
  }
}

/**
 * Epoch milliseconds of an ISO-8601 timestamp with an explicit offset (`Z` or `±hh:mm`).
 * Local times without an offset are refused: the hub never guesses a time zone.
 */
export function parseTimestamp(text: string): number {
  const m = TIMESTAMP_PATTERN.exec(text);
  const local = m ? utcMillis(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), Number((m[7] ?? '').padEnd(3, '0'))) : undefined;
  const offset = m ? parseOffset(m[8]) : undefined;
  if (local === undefined || offset === undefined) {
    throw new ValidationError('timestamp-millis', 'BAD_TIMESTAMP', `${JSON.stringify(text)} is not an ISO-8601 timestamp with an offset, e.g. "2025-06-04T14:30:00+08:00"`);
  }
  return local - offset;
}

export function formatMillis(ms: number): string {
  return isoMillis(ms);
}

function parseOffset(text: string): number | undefined {
  if (text === 'Z') return 0;
  const hours = Number(text.slice(1, 3));
  const minutes = Number(text.slice(4, 6));
  if (hours > 23 || minutes > 59) return undefined;
  return (text[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** Days in each month of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** Days from 1970-01-01 to a proleptic Gregorian civil date: H. Hinnant's days-from-civil, the inverse of `isoMillis`'s. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1; // from March 1st
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * UTC milliseconds of the given wall-clock fields, or undefined when any is out of range
 * (2025-02-30, 24:00). By arithmetic, not a Date: the warehouse sink reads a time per record.
 */
function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number | undefined {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > (month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1])) return undefined; // no such day in that month
  return daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** JavaScript's date range: ±100,000,000 days around 1970. */
const MAX_MS = 8.64e15;
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
const pad4 = (n: number) => (n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : `${n}`);

/**
 * Epoch milliseconds as `Date.prototype.toISOString` writes them, by arithmetic: about three
 * times faster than a Date per value, which counted when every record carries several. The
 * proleptic Gregorian civil date of a day number is H. Hinnant's days-to-civil algorithm;
 * years outside 0000–9999, which ISO writes with six digits and a sign, are left to Date.
 */
function isoMillis(time: number): string {
  if (!Number.isFinite(time) || Math.abs(time) > MAX_MS) throw new RangeError('value is outside the range of JavaScript dates');
  // Whole milliseconds, truncated toward zero, as a Date keeps them (and -0 as 0).
  const ms = Math.trunc(time) + 0;
  const days = Math.floor(ms / MS_PER_DAY);
  if (!fourDigitYear(days)) return new Date(ms).toISOString();
  let rest = ms - days * MS_PER_DAY;
  const z = days + 719_468; // days from 0000-03-01
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100)); // from March 1st
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${pad3(rest - second * 1000)}Z`;
}

// ---------------------------------------------------------------------------------------------

/** The map to pass as avsc's `logicalTypes` option (and the registry client's `forSchemaOptions`). */
export const LOGICAL_TYPES: Readonly<Record<'decimal' | 'date' | 'timestamp-millis', new (schema: Schema, opts?: unknown) => types.LogicalType>> =
  Object.freeze({
    decimal: DecimalType,
    date: DateType,
    'timestamp-millis': TimestampMillisType,
  });
