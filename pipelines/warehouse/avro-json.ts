import { Type, types } from 'avsc';
import { fourDigitYear, MS_PER_DAY, TimestampMillisType } from '../../schemas/logical-types';
import { EMPTY, NotTranscodable, RecordCodec, recordCodec, Sink, Source } from './avro-codecs';
import { Micros, micros } from './copy-binary';
import { sha256 } from './core-rows';

export { NotTranscodable } from './avro-codecs';

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
 *   const version = transcode(body);   // { id, version, contentHash, json }
 */

/** A version of a record as the warehouse stages it, transcoded from its Avro body. */
export interface TranscodedVersion {
  id: string;
  /** Its `source_updated_at`, in microseconds since PostgreSQL's epoch. */
  version: Micros;
  contentHash: string;
  /** The stored JSON (lineage first, then the hashed text's members), UTF-8. */
  json: Buffer;
}

/**
 * The transcoder of one writer schema, or null when the schema has a type it does not handle,
 * or its id is not a string or its `source_updated_at` not a timestamp-millis: those two are
 * also returned on their own, for the staging table's columns.
 */
export function jsonTranscoder(type: Type, idField: string): ((body: Buffer) => TranscodedVersion) | null {
  if (!(type instanceof types.RecordType)) return null;
  let record: RecordCodec;
  try {
    record = recordCodec(type);
  } catch (err) {
    if (err instanceof NotTranscodable) return null;
    throw err;
  }
  const fieldTypes = type.fields.map((f) => f.type);
  const names = type.fields.map((f) => f.name);
  const idIndex = names.indexOf(idField);
  const versionIndex = names.indexOf('source_updated_at');
  if (idIndex < 0 || fieldTypes[idIndex].typeName !== 'string' || versionIndex < 0 || !(fieldTypes[versionIndex] instanceof TimestampMillisType)) return null;
  const lineageIndex = names.indexOf('lineage');
  // One source per transcoder, reused; the records' JSON goes one after another into the sink's blocks.
  const src = new Source();
  const out = new Sink();
  return (body) => {
    try {
      return transcode(body);
    } finally {
      src.buf = EMPTY; // not kept alive by the transcoder: the body is a slice of a whole fetch
    }
  };

  function transcode(body: Buffer): TranscodedVersion {
    src.buf = body;
    src.pos = 0;
    record.locate(src);
    if (src.pos !== body.length) throw new NotTranscodable('trailing bytes');
    out.begin();
    // The stored JSON is `{"lineage":…,` and then the hashed object's members: the lineage is
    // written first, then the object from its `{`, which is hashed and then turned into that `,`.
    if (lineageIndex >= 0) {
      out.ascii('{"lineage":');
      src.pos = record.starts[lineageIndex];
      record.fields[lineageIndex].codec.emit(src, out);
    }
    const object = out.len - out.start; // from the record's start: the sink may move it to another block
    record.object(src, out, lineageIndex);
    const objectStart = out.start + object;
    const contentHash = sha256(out.buf.subarray(objectStart, out.len));
    if (lineageIndex >= 0) {
      if (out.len - objectStart === 2) {
        out.buf[objectStart] = 0x7d; // nothing besides the lineage: `{"lineage":…}`
        out.len = objectStart + 1;
      } else out.buf[objectStart] = 0x2c;
    }
    const json = out.take();
    // Both already written above, so known to be well formed: valid UTF-8, a time with a four-digit year or one beyond.
    src.pos = record.starts[idIndex];
    const idLength = src.long();
    const id = body.toString('utf8', src.pos, src.pos + idLength);
    src.pos = record.starts[versionIndex];
    const ms = src.long();
    const days = Math.floor(ms / MS_PER_DAY);
    // Beyond four-digit years the text path decides (it refuses them).
    if (!fourDigitYear(days)) throw new NotTranscodable('a source_updated_at beyond four-digit years');
    return { id, version: micros(ms), contentHash, json };
  }
}
