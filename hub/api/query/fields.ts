import { CANONICAL_FIELDS, type FieldKind } from '../../../pipelines/normalise/canonical-fields';
import { loadSchema, type AvroRecordSchema, type Dataset } from '../../../schemas/catalog';

/**
 * Every field of a canonical dataset, read from its Avro schema, with what the exchange API
 * does with it when it carries personal data. The flags are derived, not listed by hand, from
 * three declarations the hub already enforces elsewhere, so a new field cannot slip past them:
 *
 * 1. the normaliser's field kinds (`CANONICAL_FIELDS`): an `id_number` or `phone` source field
 *    becomes `<field>_hash` and `<field>_masked`, a `person_name` becomes `<field>_masked`,
 *    and `text` is free text whose ID and phone numbers were masked;
 * 2. the field's name: `*_hash` is a keyed hash, `*_masked` a masked display form;
 * 3. the schema's doc: "HMAC" marks a keyed hash, "individuals masked" a name that is masked
 *    for people only, "personal data masked" masked free text.
 *
 * @example
 *   datasetFields('hotline-ticket').find((f) => f.path === 'caller_phone_hash');
 *   // { path: 'caller_phone_hash', type: 'string', nullable: true, personal: true, protection: 'keyed_hash', requires: 'read:pii', … }
 */

/**
 * - `keyed_hash`: HMAC of an ID or phone number. Re-identifiable (it matches the same person
 *   everywhere the hub's key is used), so it is only answered with `read:pii`.
 * - `masked`: a masked display form (`110105********002X`, `138****5678`, `张**`).
 * - `masked_if_individual`: a party's name, in clear for organisations, masked for people.
 * - `masked_free_text`: free text whose ID and phone numbers (and known names) were masked.
 */
export type Protection = 'keyed_hash' | 'masked' | 'masked_if_individual' | 'masked_free_text';

export interface FieldInfo {
  /** Dotted path in the record; `[]` marks an array's items, e.g. `measures[].name`. */
  path: string;
  /** Readable Avro type: `string`, `date`, `decimal(18,2)`, `enum EnforcementStatus`, `array<string>`, `record Party`. */
  type: string;
  nullable: boolean;
  doc: string | null;
  /** The symbols of an enum (or an array of enums). */
  symbols?: string[];
  personal: boolean;
  protection: Protection | null;
  /** The scope without which the field is left out of API answers. */
  requires: 'read:pii' | null;
}

type AvroType = unknown;
interface AvroField {
  name: string;
  type: AvroType;
  doc?: string;
}

/** The normaliser's kind for a canonical path, following the `_hash` / `_masked` fields it derives. */
export function normaliserKind(dataset: Dataset, path: string): FieldKind | null {
  const specs = CANONICAL_FIELDS[dataset];
  if (Object.hasOwn(specs, path)) return specs[path].kind;
  const derived = /^(.+)_(hash|masked)$/.exec(path);
  if (derived && Object.hasOwn(specs, derived[1])) {
    const kind = specs[derived[1]].kind;
    if (kind === 'id_number' || kind === 'phone' || (kind === 'person_name' && derived[2] === 'masked')) return kind;
  }
  return null;
}

/** How a field is protected, from its normaliser kind, its name and its doc (see the module comment). */
export function protectionOf(path: string, kind: FieldKind | null, doc: string | null): Protection | null {
  const name = path.split('.').pop()!;
  const text = doc ?? '';
  if (name.endsWith('_hash') || /\bHMAC\b/.test(text)) return 'keyed_hash';
  if (name.endsWith('_masked') || kind === 'id_number' || kind === 'phone' || kind === 'person_name') return 'masked';
  if (/individuals? masked/i.test(text)) return 'masked_if_individual';
  if (kind === 'text' || /personal data masked/i.test(text)) return 'masked_free_text';
  return null;
}

function nonNull(type: AvroType): { type: AvroType; nullable: boolean } {
  if (Array.isArray(type)) {
    const rest = type.filter((t) => t !== 'null');
    return { type: rest.length === 1 ? rest[0] : rest, nullable: rest.length < type.length };
  }
  return { type, nullable: false };
}

function describeType(type: AvroType): { type: string; symbols?: string[] } {
  if (typeof type === 'string') return { type };
  if (Array.isArray(type)) return { type: type.map((t) => describeType(t).type).join(' | ') };
  const t = type as { type: string; logicalType?: string; precision?: number; scale?: number; name?: string; symbols?: string[]; items?: AvroType };
  if (t.logicalType === 'decimal') return { type: `decimal(${t.precision},${t.scale ?? 0})` };
  if (t.logicalType) return { type: t.logicalType === 'timestamp-millis' ? 'timestamp' : t.logicalType };
  if (t.type === 'enum') return { type: `enum ${t.name}`, symbols: [...(t.symbols ?? [])] };
  if (t.type === 'record') return { type: `record ${t.name}` };
  if (t.type === 'array') {
    const items = describeType(t.items);
    return { type: `array<${items.type}>`, ...(items.symbols ? { symbols: items.symbols } : {}) };
  }
  return { type: t.type };
}

function walk(dataset: Dataset, fields: readonly AvroField[], prefix: string, out: FieldInfo[]): void {
  for (const field of fields) {
    const path = prefix + field.name;
    const { type, nullable } = nonNull(field.type);
    const doc = field.doc ?? null;
    const kind = normaliserKind(dataset, path.replace(/\[\]/g, ''));
    const protection = protectionOf(path, kind, doc);
    out.push({ path, ...describeType(type), nullable, doc, personal: protection !== null, protection, requires: protection === 'keyed_hash' ? 'read:pii' : null });
    const t = type as { type?: string; fields?: AvroField[]; items?: { type?: string; fields?: AvroField[] } };
    if (t.type === 'record' && t.fields) walk(dataset, t.fields, `${path}.`, out);
    if (t.type === 'array' && t.items?.type === 'record' && t.items.fields) walk(dataset, t.items.fields, `${path}[].`, out);
  }
}

const cache = new Map<Dataset, FieldInfo[]>();

/** The fields of a dataset, nested records flattened after their parent (`party`, `party.kind`…). */
export function datasetFields(dataset: Dataset): readonly FieldInfo[] {
  let fields = cache.get(dataset);
  if (!fields) {
    fields = [];
    walk(dataset, (loadSchema(dataset) as AvroRecordSchema).fields as readonly AvroField[], '', fields);
    cache.set(dataset, fields);
  }
  return fields;
}

/** The personal fields of a dataset, by path. */
export function personalFields(dataset: Dataset): readonly FieldInfo[] {
  return datasetFields(dataset).filter((f) => f.personal);
}

/** The symbols of an enum field (or array of enums) of a dataset, e.g. `status`. */
export function enumSymbols(dataset: Dataset, path: string): readonly string[] {
  const field = datasetFields(dataset).find((f) => f.path === path);
  if (!field?.symbols) throw new TypeError(`${dataset}.${path} is not an enum field`);
  return field.symbols;
}

/** The schema's own description of the dataset. */
export function datasetDoc(dataset: Dataset): string {
  return loadSchema(dataset).doc ?? dataset;
}
