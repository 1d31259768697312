import { isUtf8 } from 'node:buffer';
import { Type, types } from 'avsc';
import { sha256 } from './core-rows';

/**
 * A canonical record's Avro body straight to the warehouse's JSON text, as UTF-8 bytes: the
 * same text `versionText` makes from the decoded record (keys sorted at every level, strings
 * escaped as `JSON.stringify` escapes them), and the same content hash, without building the
 * record's JavaScript objects and strings first. The sink's decode, serialisation, UTF-8
 * encoding and the garbage they leave were most of its CPU per record.
 *
 * Built per writer schema (the codec decodes with the writer's schema). A schema with a type it
 * does not handle (map, fixed, float, plain bytes) gets no transcoder, and a record it cannot
 * reproduce byte for byte (a string that is not valid UTF-8, a long beyond 2^53) is refused:
 * in both cases the caller decodes the record and serialises it as before.
 *
 * @example
 *   const transcode = jsonTranscoder(type, 'case_id');
 *   const version = transcode(body);   // { id, sourceUpdatedAt, contentHash, json }
 */

/** A record the transcoder cannot reproduce exactly: serialise it the slow way. */
export class NotTranscodable extends Error {}

class Source {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  /** Avro's zig-zag varint, as a safe integer. */
  long(): number {
    const buf = this.buf;
    let n = 0;
    let shift = 1;
    let b: number;
    let bytes = 0;
    do {
      if (this.pos >= buf.length) throw new NotTranscodable('truncated varint');
      b = buf[this.pos++];
      n += (b & 0x7f) * shift;
      shift *= 128;
      if (++bytes > 8) throw new NotTranscodable('long beyond 2^53');
    } while (b & 0x80);
    if (n > Number.MAX_SAFE_INTEGER) throw new NotTranscodable('long beyond 2^53');
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  bytes(): [start: number, end: number] {
    const len = this.long();
    const start = this.pos;
    this.pos += len;
    if (len < 0 || this.pos > this.buf.length) throw new NotTranscodable('truncated bytes');
    return [start, this.pos];
  }
}

class Sink {
  buf = Buffer.allocUnsafe(4096);
  len = 0;

  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
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

type Emit = (src: Source, out: Sink) => void;

const HEX = '0123456789abcdef';
/** JSON.stringify's escape of each byte below 0x20, `"` and `\`. */
const ESCAPE: Array<string | null> = Array.from({ length: 0x80 }, (_, b) => {
  if (b === 0x22) return '\\"';
  if (b === 0x5c) return '\\\\';
  if (b >= 0x20) return null;
  return { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[b] ?? `\\u00${HEX[b >> 4]}${HEX[b & 15]}`;
});

/**
 * An Avro string as a JSON string, byte for byte what JSON.stringify writes of the decoded text:
 * the ASCII bytes JSON escapes are escaped, everything else is copied. A string with a byte
 * beyond ASCII is checked to be valid UTF-8 (natively, by Node's `isUtf8`).
 */
const emitString: Emit = (src, out) => {
  const [start, end] = src.bytes();
  const buf = src.buf;
  out.byte(0x22);
  let run = start;
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b >= 0x80) ascii = false;
    else if (b < 0x20 || b === 0x22 || b === 0x5c) {
      out.from(buf, run, i);
      out.ascii(ESCAPE[b]!);
      run = i + 1;
    }
  }
  // Decoding would have replaced an invalid sequence with U+FFFD: leave such a record to the decoder.
  if (!ascii && !isUtf8(buf.subarray(start, end))) throw new NotTranscodable('a string that is not valid UTF-8');
  out.from(buf, run, end);
  out.byte(0x22);
};

const emitNull: Emit = (_src, out) => out.ascii('null');

/** What a top-level record's transcoding leaves beside its JSON: the skipped field's value and the captured fields' JSON texts. */
interface RecordExtras {
  /** Where the skipped field's value lies in `out`, right after the record's object; null without one. */
  skipped: [number, number] | null;
  captured: string[];
}

/**
 * A record: its fields decoded in the writer's order, written out in key order. `skip` leaves
 * a field out of the object (its value is kept right after it); `capture` names fields whose
 * JSON text is returned as well.
 */
function recordEmitter(type: types.RecordType, skip?: string, capture: readonly string[] = []) {
  const fields = type.fields.map((f) => ({ name: f.name, emit: emitterOf(f.type), key: `${JSON.stringify(f.name)}:` }));
  const order = fields.map((_, i) => i).sort((a, b) => (fields[a].name < fields[b].name ? -1 : fields[a].name > fields[b].name ? 1 : 0));
  const skipIndex = skip === undefined ? -1 : fields.findIndex((f) => f.name === skip);
  const captureIndexes = capture.map((name) => fields.findIndex((f) => f.name === name));
  if (captureIndexes.some((i) => i < 0)) throw new NotTranscodable(`the record has no field ${capture.join(' or ')}`);
  const starts = new Array<number>(fields.length);
  const ends = new Array<number>(fields.length);
  const write = (src: Source, out: Sink): RecordExtras => {
    // The values in the writer's order first, then the object in key order after them, which
    // is then moved to where the values began.
    const base = out.len;
    for (let i = 0; i < fields.length; i++) {
      starts[i] = out.len;
      fields[i].emit(src, out);
      ends[i] = out.len;
    }
    const captured: string[] = [];
    for (const i of captureIndexes) captured.push(out.buf.toString('utf8', starts[i], ends[i]));
    const skippedValue = skipIndex >= 0 ? Buffer.from(out.buf.subarray(starts[skipIndex], ends[skipIndex])) : null;
    const objectStart = out.len;
    out.byte(0x7b);
    let first = true;
    for (const i of order) {
      if (i === skipIndex) continue;
      if (!first) out.byte(0x2c);
      first = false;
      out.ascii(fields[i].key);
      out.from(out.buf, starts[i], ends[i]);
    }
    out.byte(0x7d);
    out.buf.copyWithin(base, objectStart, out.len);
    out.len = base + (out.len - objectStart);
    if (!skippedValue) return { skipped: null, captured };
    const at = out.len;
    out.from(skippedValue, 0, skippedValue.length);
    return { skipped: [at, out.len], captured };
  };
  return { emit: ((src, out) => void write(src, out)) as Emit, write };
}

/** The record types whose emitters are being built. */
const building = new Set<Type>();

function emitterOf(type: Type): Emit {
  if (type instanceof types.LogicalType) {
    const logical = type as unknown as { _fromValue(value: unknown): unknown; underlyingType: Type };
    const underlying = logical.underlyingType;
    const read = readerOf(underlying);
    return (src, out) => {
      const value = logical._fromValue(read(src));
      if (typeof value !== 'string') throw new NotTranscodable('a logical value that is not a string');
      out.ascii(JSON.stringify(value));
    };
  }
  switch (type.typeName) {
    case 'null':
      return emitNull;
    case 'boolean':
      return (src, out) => out.ascii(src.buf[src.pos++] ? 'true' : 'false');
    case 'int':
    case 'long':
      return (src, out) => out.ascii(String(src.long()));
    case 'double':
      return (src, out) => {
        if (src.pos + 8 > src.buf.length) throw new NotTranscodable('truncated double');
        const value = src.buf.readDoubleLE(src.pos);
        src.pos += 8;
        out.ascii(JSON.stringify(value));
      };
    case 'string':
      return emitString;
    case 'enum': {
      const symbols = (type as types.EnumType).symbols.map((s) => JSON.stringify(s));
      return (src, out) => {
        const symbol = symbols[src.long()];
        if (symbol === undefined) throw new NotTranscodable('enum index out of range');
        out.ascii(symbol);
      };
    }
    case 'array': {
      const items = emitterOf((type as types.ArrayType).itemsType);
      return (src, out) => {
        out.byte(0x5b);
        let first = true;
        for (let count = src.long(); count !== 0; count = src.long()) {
          if (count < 0) {
            count = -count;
            src.long(); // the block's size in bytes
          }
          for (let k = 0; k < count; k++) {
            if (!first) out.byte(0x2c);
            first = false;
            items(src, out);
          }
        }
        out.byte(0x5d);
      };
    }
    case 'record': {
      // A record that contains itself would be built forever: leave such schemas to the decoder.
      if (building.has(type)) throw new NotTranscodable(`recursive record ${type.name}`);
      building.add(type);
      try {
        return recordEmitter(type as types.RecordType).emit;
      } finally {
        building.delete(type);
      }
    }
    case 'union:unwrapped': {
      const branches = (type as types.UnwrappedUnionType).types.map(emitterOf);
      return (src, out) => {
        const branch = branches[src.long()];
        if (!branch) throw new NotTranscodable('union index out of range');
        branch(src, out);
      };
    }
    default:
      throw new NotTranscodable(`no transcoding of Avro ${type.typeName}`);
  }
}

/** The underlying value of a logical type, read as avsc reads it. */
function readerOf(type: Type): (src: Source) => unknown {
  switch (type.typeName) {
    case 'int':
    case 'long':
      return (src) => src.long();
    case 'bytes':
      return (src) => {
        const [start, end] = src.bytes();
        return src.buf.subarray(start, end);
      };
    default:
      throw new NotTranscodable(`no transcoding of a logical type over ${type.typeName}`);
  }
}

/** A version of a record as the warehouse stages it, transcoded from its Avro body. */
export interface TranscodedVersion {
  id: string;
  sourceUpdatedAt: string;
  contentHash: string;
  /** The stored JSON (lineage first, then the hashed text's members), UTF-8. */
  json: Buffer;
}

/**
 * The transcoder of one writer schema, or null when the schema has a type it does not handle.
 * `idField` and `source_updated_at` are also returned as text, for the staging table's own columns.
 */
export function jsonTranscoder(type: Type, idField: string): ((body: Buffer) => TranscodedVersion) | null {
  if (!(type instanceof types.RecordType)) return null;
  let record: ReturnType<typeof recordEmitter>;
  building.add(type);
  try {
    record = recordEmitter(type, 'lineage', [idField, 'source_updated_at']);
  } catch (err) {
    if (err instanceof NotTranscodable) return null;
    throw err;
  } finally {
    building.delete(type);
  }
  // One output buffer per transcoder, reused; each record's JSON is then copied into the arena.
  const out = new Sink();
  const arena = new Arena();
  return (body) => {
    const src = new Source(body);
    out.len = 0;
    const { skipped, captured } = record.write(src, out);
    if (src.pos !== body.length) throw new NotTranscodable('trailing bytes');
    const objectEnd = skipped ? skipped[0] : out.len;
    const hashed = out.buf.subarray(0, objectEnd);
    const contentHash = sha256(hashed);
    let json: Buffer;
    if (!skipped) json = arena.join(hashed);
    else {
      const lineage = out.buf.subarray(skipped[0], skipped[1]);
      json = objectEnd === 2 ? arena.join(LINEAGE_KEY, lineage, CLOSE) : arena.join(LINEAGE_KEY, lineage, COMMA, hashed.subarray(1));
    }
    const id = JSON.parse(captured[0]) as unknown;
    const version = JSON.parse(captured[1]) as unknown;
    if (typeof id !== 'string' || typeof version !== 'string') throw new NotTranscodable('an id or source_updated_at that is not text');
    return { id, sourceUpdatedAt: version, contentHash, json };
  };
}

/**
 * Where the transcoded records' JSON is kept: slices of large blocks, not a buffer per record.
 * A block is freed once no record of it is referenced; the sink drops a batch's records when
 * the batch is applied.
 */
class Arena {
  /** Below glibc's mmap threshold: freed blocks are reused, not mapped and faulted in afresh. */
  private static readonly BLOCK = 64 * 1024;
  private block = Buffer.allocUnsafeSlow(0);
  private used = 0;

  join(...parts: Buffer[]): Buffer {
    let size = 0;
    for (const part of parts) size += part.length;
    if (this.used + size > this.block.length) {
      this.block = Buffer.allocUnsafeSlow(Math.max(Arena.BLOCK, size));
      this.used = 0;
    }
    const start = this.used;
    for (const part of parts) this.used += part.copy(this.block, this.used);
    return this.block.subarray(start, this.used);
  }
}

const LINEAGE_KEY = Buffer.from('{"lineage":');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from('}');
