import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

interface Codec {
  toBuffer(value: object): Buffer;
  fromBuffer(buffer: Buffer): unknown;
}

const MAGIC = 0;
const HEADER = 5;

/**
 * The Confluent wire format (magic byte 0, 4-byte schema id, Avro body) without a promise per
 * message: schemas are fetched from the registry once per id, then every message is encoded
 * and decoded synchronously. The hot paths (normaliser, sink) handle tens of thousands of
 * messages a second, where an `await` per message is a measurable share of the work.
 */
export class AvroCodec {
  private readonly codecs = new Map<number, Codec>();

  constructor(private readonly registry: SchemaRegistry) {}

  /** Fetches (once) the schemas of these ids, so `encode` can run synchronously. */
  async load(...ids: number[]): Promise<void> {
    for (const id of ids) {
      if (!this.codecs.has(id)) this.codecs.set(id, (await this.registry.getSchema(id)) as Codec);
    }
  }

  static schemaId(buffer: Buffer): number {
    if (buffer.length < HEADER || buffer[0] !== MAGIC) throw new Error('not in the Confluent wire format (magic byte 0 and a schema id)');
    return buffer.readInt32BE(1);
  }

  /** The Avro body of a framed message, after its magic byte and schema id. */
  static body(buffer: Buffer): Buffer {
    return buffer.subarray(HEADER);
  }

  /** Decodes a framed message; synchronous when its schema is known, a promise the first time. */
  decode(buffer: Buffer): unknown {
    const id = AvroCodec.schemaId(buffer);
    const codec = this.codecs.get(id);
    if (codec) return codec.fromBuffer(buffer.subarray(HEADER));
    return this.load(id).then(() => this.codecs.get(id)!.fromBuffer(buffer.subarray(HEADER)));
  }

  /** The writer's schema of a schema id passed to `load` before, as the registry client built it (an avsc Type). */
  writerType(id: number): unknown {
    const codec = this.codecs.get(id);
    if (!codec) throw new Error(`schema ${id} is not loaded`);
    return codec;
  }

  /** Encodes with a schema id passed to `load` before. */
  encode(id: number, value: object): Buffer {
    const codec = this.codecs.get(id);
    if (!codec) throw new Error(`schema ${id} is not loaded`);
    const body = codec.toBuffer(value);
    const out = Buffer.allocUnsafe(HEADER + body.length);
    out[0] = MAGIC;
    out.writeInt32BE(id, 1);
    body.copy(out, HEADER);
    return out;
  }
}
