import { parseTimestamp } from '../../schemas/logical-types';

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

/** An ISO time whose fraction goes beyond the millisecond: the text up to it, the further digits, the offset. */
const SUB_MILLISECOND = /^(.*\.\d{3})(\d+)(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO 8601 time with its offset (as the canonical records write them) as microseconds since
 * PostgreSQL's epoch, the value timestamptz stores. Read by the canonical timestamp parser
 * (`parseTimestamp`, which refuses a text without an offset or a day the month lacks); digits
 * of the fraction beyond the millisecond are kept to the microsecond, rounded on the seventh.
 */
export function isoMicros(text: string): Micros {
  // The canonical form, `2025-06-04T06:30:00.000Z`, is 24 characters: nothing beyond the millisecond.
  const finer = text.length === 24 ? null : SUB_MILLISECOND.exec(text);
  let ms: number;
  try {
    ms = parseTimestamp(finer ? finer[1] + finer[3] : text);
  } catch (err) {
    throw new RangeError(`not an ISO time with an offset: ${JSON.stringify(text)}`, { cause: err });
  }
  if (!finer) return micros(ms);
  const digits = finer[2];
  return micros(ms, Number(digits.slice(0, 3).padEnd(3, '0')) + (digits.length > 3 && digits[3] >= '5' ? 1 : 0));
}
