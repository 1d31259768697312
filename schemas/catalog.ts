import fs from 'node:fs';
import path from 'node:path';
import { Type, type Schema } from 'avsc';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Config } from '../lib/config';
import { registerAvro } from '../lib/registry-client';
import { LOGICAL_TYPES } from './logical-types';

/**
 * The explicit map from Kafka topic to Avro schema file and registry subject. Schemas are
 * files (`schemas/*.avsc`); this module only finds, parses and registers them.
 *
 * @example
 *   subjectFor('canonical.hotline-ticket');   // 'canonical.hotline-ticket-value'
 *   avroType('hotline-ticket').toBuffer(ticket);
 *   await registerAll(registry, config, ['smr-jq', 'hotline-12345']);
 */

/** The schema files, by name. */
export const SCHEMA_FILES = Object.freeze({
  'raw-envelope': 'raw-envelope.avsc',
  'enforcement-case': 'enforcement-case.avsc',
  'hotline-ticket': 'hotline-ticket.avsc',
  'supervision-record': 'supervision-record.avsc',
  'dlq-record': 'dlq-record.avsc',
});

export type SchemaName = keyof typeof SCHEMA_FILES;

/** The canonical topic of each dataset of the data standard. */
export const DATASET_TOPICS = Object.freeze({
  'enforcement-case': 'canonical.enforcement-case',
  'hotline-ticket': 'canonical.hotline-ticket',
  'supervision-record': 'canonical.supervision-record',
});

export type Dataset = keyof typeof DATASET_TOPICS;

export const DLQ_TOPIC = 'dlq.normalise';

/** Every fixed topic and the schema of its values; `raw.<source_id>` topics all carry `raw-envelope`. */
export const TOPIC_SCHEMAS: Readonly<Record<string, SchemaName>> = Object.freeze({
  [DATASET_TOPICS['enforcement-case']]: 'enforcement-case',
  [DATASET_TOPICS['hotline-ticket']]: 'hotline-ticket',
  [DATASET_TOPICS['supervision-record']]: 'supervision-record',
  [DLQ_TOPIC]: 'dlq-record',
});

const RAW_PREFIX = 'raw.';
// Kafka's legal topic characters; the whole topic name stays within Kafka's 249-character limit.
const SOURCE_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** The raw landing topic of a source: `raw.<source_id>`. */
export function rawTopic(sourceId: string): string {
  if (!SOURCE_ID.test(sourceId)) {
    throw new TypeError(`source id ${JSON.stringify(sourceId)} cannot name a Kafka topic: use letters, digits, '.', '_' or '-' (at most 200)`);
  }
  return RAW_PREFIX + sourceId;
}

/** The schema of a topic's values; throws for a topic the catalog does not know. */
export function schemaNameFor(topic: string): SchemaName {
  if (Object.hasOwn(TOPIC_SCHEMAS, topic)) return TOPIC_SCHEMAS[topic];
  if (topic.startsWith(RAW_PREFIX) && SOURCE_ID.test(topic.slice(RAW_PREFIX.length))) return 'raw-envelope';
  throw new TypeError(`no schema for topic ${JSON.stringify(topic)}: known are ${Object.keys(TOPIC_SCHEMAS).join(', ')} and raw.<source_id>`);
}

/** The registry subject of a topic's values (TopicNameStrategy): `<topic>-value`. */
export function subjectFor(topic: string): string {
  schemaNameFor(topic);
  return `${topic}-value`;
}

/** The folder holding the `.avsc` files, from the TS sources and from compiled `dist/` alike. */
export function schemasDir(): string {
  return path.join(projectRoot(), 'schemas');
}

let root: string | undefined;

function projectRoot(): string {
  if (root) return root;
  // Walk up to the package root: `schemas/` from the sources, `dist/schemas/` once compiled.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'schemas', SCHEMA_FILES['raw-envelope']))) {
      return (root = dir);
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the schemas/ folder above ${__dirname}`);
  }
}

/** An Avro record schema as parsed from its file. */
export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly namespace: string;
  readonly doc?: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly type: unknown; readonly doc?: string; readonly default?: unknown }>;
}

const schemaCache = new Map<SchemaName, AvroRecordSchema>();
const typeCache = new Map<SchemaName, Type>();

/** Reads and parses a schema file (once); the result is frozen, clone it to derive a variant. */
export function loadSchema(name: SchemaName): AvroRecordSchema {
  const cached = schemaCache.get(name);
  if (cached) return cached;
  if (!Object.hasOwn(SCHEMA_FILES, name)) throw new TypeError(`unknown schema ${JSON.stringify(name)}`);
  const file = path.join(schemasDir(), SCHEMA_FILES[name]);
  let schema: AvroRecordSchema;
  try {
    schema = JSON.parse(fs.readFileSync(file, 'utf8')) as AvroRecordSchema;
  } catch (err) {
    throw new Error(`cannot read Avro schema ${file}: ${(err as Error).message}`, { cause: err });
  }
  deepFreeze(schema);
  schemaCache.set(name, schema);
  return schema;
}

/** The avsc type of a schema, with the hub's logical types (decimal strings, ISO dates and timestamps). */
export function avroType(name: SchemaName): Type {
  let type = typeCache.get(name);
  if (!type) {
    // A fresh options object each time (avsc keeps its registry of named types in it), and a
    // broken logical type fails here instead of silently falling back to its underlying type.
    type = Type.forSchema(loadSchema(name) as unknown as Schema, { logicalTypes: LOGICAL_TYPES, assertLogicalTypes: true });
    typeCache.set(name, type);
  }
  return type;
}

/** One subject the hub registers. */
export interface CatalogEntry {
  topic: string;
  subject: string;
  schema: SchemaName;
}

/** The fixed topics, then one raw topic per source id (duplicates dropped), with their subjects. */
export function catalogEntries(rawSourceIds: readonly string[]): CatalogEntry[] {
  const topics = [...Object.keys(TOPIC_SCHEMAS), ...new Set(rawSourceIds.map(rawTopic))];
  return topics.map((topic) => ({ topic, subject: subjectFor(topic), schema: schemaNameFor(topic) }));
}

export interface RegisterAllOptions {
  /** Put before every subject, e.g. to isolate a test run: `it.x-` + `canonical.hotline-ticket-value`. */
  subjectPrefix?: string;
}

/**
 * Registers every subject (BACKWARD, through `registerAvro`), one after another, and returns
 * the schema id of each. Registering an unchanged schema again returns the same id; an
 * incompatible change throws `SchemaCompatibilityError` and nothing after it is registered.
 */
export async function registerAll(
  registry: SchemaRegistry,
  config: Config,
  rawSourceIds: readonly string[],
  options: RegisterAllOptions = {},
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const entry of catalogEntries(rawSourceIds)) {
    const subject = (options.subjectPrefix ?? '') + entry.subject;
    ids.set(subject, await registerAvro(registry, config, subject, loadSchema(entry.schema)));
  }
  return ids;
}

function deepFreeze(value: unknown): void {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
}
