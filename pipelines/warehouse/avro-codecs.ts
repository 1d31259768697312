import { isUtf8 } from 'node:buffer';
import { Type, types } from 'avsc';
import { DateType, formatDays, fourDigitYear, MS_PER_DAY, TimestampMillisType } from '../../schemas/logical-types';

/**
 * Avro's binary encoding read type by type and written as JSON text, for the warehouse
 * transcoder (`avro-json.ts`): each type's codec either writes its value as `JSON.stringify`
 * would write the decoded value, or steps over it. A record's codec steps over its fields once
 * to find where each begins, then writes them in key order from there, so every value is
 * written once, where it belongs. What a codec cannot reproduce byte for byte it refuses
 * (`NotTranscodable`), and the caller decodes the record instead.
 *
 * @example
 *   const record = recordCodec(type);
 *   src.buf = body; src.pos = 0;
 *   record.locate(src);
 *   record.object(src, out, -1);   // the whole record, keys sorted
 */

/** A record the transcoder cannot reproduce exactly: serialise it the slow way. */
export class NotTranscodable extends Error {}

export class Source {
  pos = 0;
  buf: Buffer = EMPTY;

  /** Avro's zig-zag varint, as a safe integer. */
  long(): number {
    const buf = this.buf;
    const b = buf[this.pos];
    // One byte (-64..63) by integer arithmetic: most longs on the wire are enum indexes, union branches and lengths.
    if (b < 0x80) {
      this.pos++;
      return (b >>> 1) ^ -(b & 1);
    }
    let n = 0;
    let shift = 1;
    let c: number;
    let bytes = 0;
    do {
      if (this.pos >= buf.length) throw new NotTranscodable('truncated varint');
      c = buf[this.pos++];
      n += (c & 0x7f) * shift;
      shift *= 128;
      if (++bytes > 8) throw new NotTranscodable('long beyond 2^53');
    } while (c & 0x80);
    if (n > Number.MAX_SAFE_INTEGER) throw new NotTranscodable('long beyond 2^53');
    // `& 1` reads the parity of any safe integer (ToInt32 keeps it); `%` of a double is a call into the runtime.
    return n & 1 ? -(n + 1) / 2 : n / 2;
  }

  /** Moves past a length-prefixed value (string, bytes); returns where its content begins (it ends at `pos`). */
  skipBytes(): number {
    const len = this.long();
    const start = this.pos;
    this.pos += len;
    if (len < 0 || this.pos > this.buf.length) throw new NotTranscodable('truncated bytes');
    return start;
  }
}

export const EMPTY = Buffer.alloc(0);

/**
 * Where the transcoded records' JSON is written: one record after another in large blocks, each
 * record's JSON a slice of its block rather than a buffer of its own. A record that outgrows the
 * block moves, with what it has written so far, to a new one. A block is freed once no record of
 * it is referenced; the sink drops a batch's records when the batch is applied.
 */
export class Sink {
  /** Below glibc's mmap threshold: freed blocks are reused, not mapped and faulted in afresh. */
  private static readonly BLOCK = 64 * 1024;
  buf = Buffer.allocUnsafeSlow(Sink.BLOCK);
  len = 0;
  /** Where the record being written begins. */
  start = 0;

  /** Starts a record where the last one ended. */
  begin(): void {
    this.start = this.len;
  }

  /** The record written since `begin`. */
  take(): Buffer {
    const record = this.buf.subarray(this.start, this.len);
    this.start = this.len;
    return record;
  }

  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const written = this.len - this.start;
    const next = Buffer.allocUnsafeSlow(Math.max(Sink.BLOCK, 2 * (written + extra)));
    this.buf.copy(next, 0, this.start, this.len);
    this.buf = next;
    this.start = 0;
    this.len = written;
  }

  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const buf = this.buf;
    let len = this.len;
    // Short texts are copied a character at a time: cheaper than a call into Buffer's native write.
    if (n < 48) for (let i = 0; i < n; i++) buf[len++] = text.charCodeAt(i);
    else len += buf.write(text, len, 'latin1');
    this.len = len;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  from(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n < 48) {
      const buf = this.buf;
      let len = this.len;
      for (let i = start; i < end; i++) buf[len++] = src[i];
      this.len = len;
    } else {
      src.copy(this.buf, this.len, start, end);
      this.len += n;
    }
  }
}

/** How the transcoder reads one Avro type: written out as JSON, or only stepped over. */
export interface Codec {
  emit: (src: Source, out: Sink) => void;
  skip: (src: Source) => void;
}

const HEX = '0123456789abcdef';
/** JSON.stringify's escape of each byte below 0x20, `"` and `\`. */
const ESCAPE: Array<string | null> = Array.from({ length: 0x80 }, (_, b) => {
  if (b === 0x22) return '\\"';
  if (b === 0x5c) return '\\\\';
  if (b >= 0x20) return null;
  return { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[b] ?? `\\u00${HEX[b >> 4]}${HEX[b & 15]}`;
});
/** Per byte: 1 where JSON escapes it, 2 beyond ASCII, 0 for a byte copied as it is. */
const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, b) => (b >= 0x80 ? 2 : ESCAPE[b] === null ? 0 : 1));

/**
 * An Avro string as a JSON string, byte for byte what JSON.stringify writes of the decoded text:
 * the ASCII bytes JSON escapes are escaped, everything else is copied. A string with a byte
 * beyond ASCII is checked to be valid UTF-8 (natively, by Node's `isUtf8`).
 */
function emitString(src: Source, out: Sink): void {
  const start = src.skipBytes();
  const end = src.pos;
  const buf = src.buf;
  out.byte(0x22);
  let run = start;
  let beyondAscii = false;
  for (let i = start; i < end; i++) {
    const kind = BYTE_CLASS[buf[i]];
    if (kind === 0) continue;
    if (kind === 2) beyondAscii = true;
    else {
      out.from(buf, run, i);
      out.ascii(ESCAPE[buf[i]]!);
      run = i + 1;
    }
  }
  // Decoding would have replaced an invalid sequence with U+FFFD: leave such a record to the decoder.
  if (beyondAscii && !isUtf8(new Uint8Array(buf.buffer, buf.byteOffset + start, end - start))) throw new NotTranscodable('a string that is not valid UTF-8');
  out.from(buf, run, end);
  out.byte(0x22);
}

const STRING: Codec = { emit: emitString, skip: (src) => src.skipBytes() };
const NULL: Codec = { emit: (_src, out) => out.ascii('null'), skip: () => undefined };
const BOOLEAN: Codec = { emit: (src, out) => out.ascii(src.buf[src.pos++] ? 'true' : 'false'), skip: (src) => void src.pos++ };
const LONG: Codec = { emit: (src, out) => out.ascii(String(src.long())), skip: (src) => void src.long() };
const DOUBLE: Codec = {
  emit: (src, out) => {
    if (src.pos + 8 > src.buf.length) throw new NotTranscodable('truncated double');
    const value = src.buf.readDoubleLE(src.pos);
    src.pos += 8;
    out.ascii(JSON.stringify(value));
  },
  skip: (src) => void (src.pos += 8),
};

/**
 * The dates last written, as `formatDays` writes them, by day number modulo the cache's size
 * (about three years without a collision): a batch's times fall on few days, so most are
 * copied rather than computed.
 */
const DATE_SLOTS = 1024;
const cachedDays = new Float64Array(DATE_SLOTS).fill(NaN);
const cachedDates = Buffer.alloc(DATE_SLOTS * 10);

/** `YYYY-MM-DD` of a day number in a four-digit year (`fourDigitYear`). */
function writeDate(out: Sink, days: number): void {
  const slot = days & (DATE_SLOTS - 1);
  const at = slot * 10;
  if (cachedDays[slot] !== days) {
    cachedDates.write(formatDays(days), at, 10, 'latin1');
    cachedDays[slot] = days;
  }
  out.from(cachedDates, at, at + 10);
}

/** Two decimal digits. */
function digits2(buf: Buffer, at: number, n: number): void {
  buf[at] = 0x30 + ((n / 10) | 0);
  buf[at + 1] = 0x30 + (n % 10);
}

/**
 * A logical type over a long written as digits: `write` writes the value of a day within a
 * four-digit year (quotes included); any other is left to the logical type's own conversion.
 */
function digitsCodec(logical: types.LogicalType, dayOf: (value: number) => number, write: (out: Sink, value: number, day: number) => void): Codec {
  const generic = logicalCodec(logical);
  return {
    emit: (src, out) => {
      const start = src.pos;
      const value = src.long();
      const day = dayOf(value);
      if (fourDigitYear(day)) return write(out, value, day);
      src.pos = start;
      generic.emit(src, out);
    },
    skip: LONG.skip,
  };
}

/** A `date` (days since 1970-01-01) as `formatDays` writes it, quoted. */
const dateCodec = (logical: types.LogicalType): Codec =>
  digitsCodec(
    logical,
    (days) => days,
    (out, days) => {
      out.byte(0x22);
      writeDate(out, days);
      out.byte(0x22);
    },
  );

/** A `timestamp-millis` as `formatMillis` writes it (`2025-06-04T06:30:00.000Z`), quoted. */
const timestampCodec = (logical: types.LogicalType): Codec =>
  digitsCodec(
    logical,
    (ms) => Math.floor(ms / MS_PER_DAY),
    (out, ms, days) => {
      out.byte(0x22);
      writeDate(out, days);
      let rest = ms - days * MS_PER_DAY;
      const hour = (rest / 3_600_000) | 0;
      rest -= hour * 3_600_000;
      const minute = (rest / 60_000) | 0;
      rest -= minute * 60_000;
      const second = (rest / 1000) | 0;
      const milli = rest - second * 1000;
      out.ensure(15);
      const buf = out.buf;
      const at = out.len;
      buf[at] = 0x54; // T
      digits2(buf, at + 1, hour);
      buf[at + 3] = 0x3a;
      digits2(buf, at + 4, minute);
      buf[at + 6] = 0x3a;
      digits2(buf, at + 7, second);
      buf[at + 9] = 0x2e;
      buf[at + 10] = 0x30 + ((milli / 100) | 0);
      digits2(buf, at + 11, milli % 100);
      buf[at + 13] = 0x5a; // Z
      buf[at + 14] = 0x22;
      out.len = at + 15;
    },
  );

/** Any other logical type: its underlying value read as avsc reads it, converted by the type, written as a JSON string. */
function logicalCodec(logical: types.LogicalType): Codec {
  const type = logical as unknown as { _fromValue(value: unknown): unknown; underlyingType: Type };
  const underlying = type.underlyingType;
  let read: (src: Source) => unknown;
  let skip: (src: Source) => void;
  switch (underlying.typeName) {
    case 'int':
    case 'long':
      read = (src) => src.long();
      skip = LONG.skip;
      break;
    case 'bytes':
      read = (src) => {
        const start = src.skipBytes();
        return src.buf.subarray(start, src.pos);
      };
      skip = STRING.skip;
      break;
    default:
      throw new NotTranscodable(`no transcoding of a logical type over ${underlying.typeName}`);
  }
  return {
    emit: (src, out) => {
      const value = type._fromValue(read(src));
      if (typeof value !== 'string') throw new NotTranscodable('a logical value that is not a string');
      out.ascii(JSON.stringify(value));
    },
    skip,
  };
}

/**
 * A record. Its fields come in the writer's order, its JSON object in key order: `locate` steps
 * over the fields once, noting where each begins, and `object` then writes each in key order
 * straight from where it begins, so every value is written once, where it belongs.
 */
export class RecordCodec implements Codec {
  /** Each field's name, codec and key as written after another member: `,"name":` (the first member without its comma). */
  readonly fields: ReadonlyArray<{ name: string; key: Buffer; codec: Codec }>;
  /** Where each field begins in the source, as the last `locate` found it. */
  readonly starts: number[];
  private readonly order: number[];

  constructor(type: types.RecordType) {
    this.fields = type.fields.map((f) => ({ name: f.name, key: Buffer.from(`,${JSON.stringify(f.name)}:`), codec: codecOf(f.type) }));
    this.order = this.fields.map((_, i) => i).sort((a, b) => (this.fields[a].name < this.fields[b].name ? -1 : this.fields[a].name > this.fields[b].name ? 1 : 0));
    this.starts = new Array<number>(this.fields.length).fill(0);
  }

  readonly skip = (src: Source): void => {
    for (const field of this.fields) field.codec.skip(src);
  };

  /** Steps over the record from `src.pos`, noting where each field begins. */
  locate(src: Source): void {
    const { fields, starts } = this;
    for (let i = 0; i < fields.length; i++) {
      starts[i] = src.pos;
      fields[i].codec.skip(src);
    }
  }

  /** The located record as a JSON object in key order, the field at index `leave` left out (-1: none). Leaves `src.pos` anywhere. */
  object(src: Source, out: Sink, leave: number): void {
    const { fields, starts, order } = this;
    out.byte(0x7b);
    let first = true;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (i === leave) continue;
      const key = fields[i].key;
      out.from(key, first ? 1 : 0, key.length);
      first = false;
      src.pos = starts[i];
      fields[i].codec.emit(src, out);
    }
    out.byte(0x7d);
  }

  readonly emit = (src: Source, out: Sink): void => {
    this.locate(src);
    const end = src.pos;
    this.object(src, out, -1);
    src.pos = end;
  };
}

/** The record types whose codecs are being built. */
const building = new Set<Type>();

/** The codec of a record type; throws NotTranscodable when it holds a type no codec reproduces, or itself. */
export function recordCodec(type: types.RecordType): RecordCodec {
  building.add(type);
  try {
    return new RecordCodec(type);
  } finally {
    building.delete(type);
  }
}

function codecOf(type: Type): Codec {
  if (type instanceof TimestampMillisType) return timestampCodec(type);
  if (type instanceof DateType) return dateCodec(type);
  if (type instanceof types.LogicalType) return logicalCodec(type);
  switch (type.typeName) {
    case 'null':
      return NULL;
    case 'boolean':
      return BOOLEAN;
    case 'int':
    case 'long':
      return LONG;
    case 'double':
      return DOUBLE;
    case 'string':
      return STRING;
    case 'enum': {
      const symbols = (type as types.EnumType).symbols.map((s) => JSON.stringify(s));
      return {
        emit: (src, out) => {
          const symbol = symbols[src.long()];
          if (symbol === undefined) throw new NotTranscodable('enum index out of range');
          out.ascii(symbol);
        },
        skip: LONG.skip,
      };
    }
    case 'array':
      return arrayCodec(codecOf((type as types.ArrayType).itemsType));
    case 'record':
      // A record that contains itself would be built forever: leave such schemas to the decoder.
      if (building.has(type)) throw new NotTranscodable(`recursive record ${type.name}`);
      return recordCodec(type as types.RecordType);
    case 'union:unwrapped': {
      const branches = (type as types.UnwrappedUnionType).types.map(codecOf);
      const nullable = branches.length === 2 ? branches.indexOf(NULL) : -1;
      if (nullable >= 0) {
        // Most unions are a field that may be null: read without looking the branch up.
        const valueIndex = 1 - nullable;
        const value = branches[valueIndex];
        return {
          emit: (src, out) => {
            const index = src.long();
            if (index === valueIndex) value.emit(src, out);
            else if (index === nullable) out.ascii('null');
            else throw new NotTranscodable('union index out of range');
          },
          skip: (src) => {
            const index = src.long();
            if (index === valueIndex) value.skip(src);
            else if (index !== nullable) throw new NotTranscodable('union index out of range');
          },
        };
      }
      const branch = (src: Source): Codec => {
        const codec = branches[src.long()];
        if (!codec) throw new NotTranscodable('union index out of range');
        return codec;
      };
      return { emit: (src, out) => branch(src).emit(src, out), skip: (src) => branch(src).skip(src) };
    }
    default:
      throw new NotTranscodable(`no transcoding of Avro ${type.typeName}`);
  }
}

/** An array: blocks of items, each block's count first (negative: followed by the block's size in bytes). */
function arrayCodec(items: Codec): Codec {
  return {
    emit: (src, out) => {
      out.byte(0x5b);
      let first = true;
      for (let count = src.long(); count !== 0; count = src.long()) {
        if (count < 0) {
          count = -count;
          src.long(); // the block's size in bytes
        }
        if (count > src.buf.length - src.pos) throw new NotTranscodable('an array block longer than the body');
        for (let k = 0; k < count; k++) {
          if (!first) out.byte(0x2c);
          first = false;
          items.emit(src, out);
        }
      }
      out.byte(0x5d);
    },
    skip: (src) => {
      for (let count = src.long(); count !== 0; count = src.long()) {
        if (count < 0) {
          const size = src.long();
          src.pos += size;
          if (size < 0 || src.pos > src.buf.length) throw new NotTranscodable('truncated array block');
          continue;
        }
        if (count > src.buf.length - src.pos) throw new NotTranscodable('an array block longer than the body');
        for (let k = 0; k < count; k++) items.skip(src);
      }
    },
  };
}
