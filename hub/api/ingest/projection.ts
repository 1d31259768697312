import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Type } from 'avsc';
import { AvroCodec } from '../../../lib/avro-codec';

type Decode = (body: Buffer) => Record<string, unknown>;

/**
 * Reads a few top-level fields of Confluent-framed Avro messages, skipping the rest: the
 * receipt tracker needs a canonical record's lineage and a raw envelope's key, digest and run
 * id, not the record — so it never builds the record's other fields, nor holds a raw payload
 * (personal data as received) in memory. Avro schema resolution does the skipping: a reader
 * schema with only the wanted fields, resolved against each writer schema id once.
 *
 * @example
 *   const lineage = new FieldProjection(registry, ['lineage']);
 *   const { lineage: l } = await lineage.decode(message.value);   // synchronous after the first message of a schema
 */
export class FieldProjection {
  private readonly decoders = new Map<number, Decode>();

  constructor(private readonly registry: SchemaRegistry, private readonly fields: readonly string[]) {}

  /** The wanted fields of a framed message; a promise only the first time a schema id is seen. */
  decode(buffer: Buffer): Record<string, unknown> | Promise<Record<string, unknown>> {
    const id = AvroCodec.schemaId(buffer);
    const body = buffer.subarray(5);
    const decoder = this.decoders.get(id);
    if (decoder) return decoder(body);
    return this.load(id).then((d) => d(body));
  }

  private async load(id: number): Promise<Decode> {
    const writer = (await this.registry.getSchema(id)) as unknown as Type;
    const schema = writer.schema() as { type: string; fields?: Array<{ name: string }> };
    let decode: Decode;
    try {
      if (schema.type !== 'record' || !schema.fields) throw new TypeError('not a record schema');
      const reader = Type.forSchema({ ...schema, fields: schema.fields.filter((f) => this.fields.includes(f.name)) } as never);
      const resolver = reader.createResolver(writer);
      decode = (body) => reader.fromBuffer(body, resolver) as Record<string, unknown>;
    } catch {
      // A wanted field whose type is defined inside a skipped one cannot stand alone: decode whole.
      decode = (body) => writer.fromBuffer(body) as Record<string, unknown>;
    }
    this.decoders.set(id, decode);
    return decode;
  }
}
