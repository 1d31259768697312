import { z } from 'zod';
import { DATASET_TOPICS, loadSchema, type Dataset } from '../../../schemas/catalog';
import { datasetFields } from './fields';

/**
 * Zod schemas of the canonical records as the API answers them, generated from the Avro files,
 * so the OpenAPI document shows the data standard's fields without a second copy of them.
 * Fields that need `read:pii` are optional and say so.
 *
 * @example
 *   recordSchema('hotline-ticket').parse(body.records[0]);
 */

interface AvroField {
  name: string;
  type: unknown;
  doc?: string;
}

function zodOf(type: unknown, named: Map<string, z.ZodType>): z.ZodType {
  if (Array.isArray(type)) {
    const rest = type.filter((t) => t !== 'null');
    const inner = rest.length === 1 ? zodOf(rest[0], named) : z.union(rest.map((t) => zodOf(t, named)) as [z.ZodType, z.ZodType, ...z.ZodType[]]);
    return rest.length < type.length ? inner.nullable() : inner;
  }
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
      case 'bytes':
        return z.string();
      case 'int':
      case 'long':
        return z.number().int();
      case 'float':
      case 'double':
        return z.number();
      case 'boolean':
        return z.boolean();
      case 'null':
        return z.null();
      default: {
        const ref = named.get(type) ?? named.get(`liandong.v1.${type}`);
        if (!ref) throw new TypeError(`unknown Avro type ${type}`);
        return ref;
      }
    }
  }
  const t = type as { type: string; logicalType?: string; name?: string; symbols?: string[]; items?: unknown; fields?: AvroField[]; doc?: string };
  if (t.logicalType === 'decimal') return z.string().describe('decimal as a string, e.g. "80000.00"');
  if (t.logicalType === 'date') return z.string().describe('date, YYYY-MM-DD');
  if (t.logicalType === 'timestamp-millis') return z.string().describe('UTC timestamp, ISO-8601 with milliseconds');
  if (t.type === 'enum') {
    const e = z.enum(t.symbols as [string, ...string[]]);
    if (t.name) named.set(t.name, e);
    return e;
  }
  if (t.type === 'array') return z.array(zodOf(t.items, named));
  if (t.type === 'record') {
    const shape: Record<string, z.ZodType> = {};
    for (const f of t.fields ?? []) shape[f.name] = zodOf(f.type, named);
    const obj = z.object(shape);
    if (t.name) named.set(t.name, obj);
    return obj;
  }
  return zodOf(t.type, named);
}

/** Describes each field from its doc, and makes the read:pii ones optional. */
function annotate(dataset: Dataset, schema: z.ZodType, prefix = ''): z.ZodType {
  const base = schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodType) : schema;
  if (!(base instanceof z.ZodObject)) return schema;
  const info = new Map(datasetFields(dataset).map((f) => [f.path, f]));
  const shape: Record<string, z.ZodType> = {};
  for (const [name, child] of Object.entries(base.shape as Record<string, z.ZodType>)) {
    const path = prefix + name;
    const field = info.get(path);
    let s = annotate(dataset, child, `${path}.`);
    const notes = [field?.doc, field?.requires ? `Only with ${field.requires}; left out otherwise.` : null, field?.protection && field.protection !== 'keyed_hash' ? `Personal data (${field.protection}).` : null];
    const text = notes.filter(Boolean).join(' ');
    if (text) s = s.describe(text);
    shape[name] = field?.requires ? s.optional() : s;
  }
  const obj = z.object(shape);
  return schema instanceof z.ZodNullable ? obj.nullable() : obj;
}

const cache = new Map<Dataset, z.ZodType>();

export function recordSchema(dataset: Dataset): z.ZodType {
  let schema = cache.get(dataset);
  if (!schema) {
    const avro = loadSchema(dataset);
    schema = annotate(dataset, zodOf(avro, new Map())).describe(`${avro.doc ?? dataset} (topic ${DATASET_TOPICS[dataset]})`);
    cache.set(dataset, schema);
  }
  return schema;
}
