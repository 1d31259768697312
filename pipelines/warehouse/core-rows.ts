import crypto from 'node:crypto';
import type { Dataset } from '../../schemas/catalog';

/**
 * How a canonical record becomes a row of its `core` table: the data standard's fields as
 * columns, a party record flattened to `<field>_kind`, `<field>_name`…, the lineage record to
 * `lineage_<field>` (`columnSource`). The sink's merge reads the columns so from the staged
 * record in SQL; `coreRow` does the same in JavaScript, for the API's tests and the bench's COPY
 * baseline. And a version's content hash and stored JSON (`versionText`).
 *
 * @example
 *   const row = coreRow(CORE_TABLES['enforcement-case'], record);
 *   row.party_uscc;   // record.party.uscc
 */

export interface CoreTable {
  dataset: Dataset;
  /** Unqualified name in schema `core`; the history table is `<table>_history`. */
  table: string;
  idColumn: string;
  /** Column name and PostgreSQL type, in table order, content_hash and recorded_at excluded. */
  columns: ReadonlyArray<readonly [name: string, type: string]>;
}

const PARTY_FIELDS = ['kind', 'name', 'uscc', 'id_hash', 'id_masked', 'region_code'] as const;
const LINEAGE: ReadonlyArray<readonly [string, string]> = [
  ['lineage_source_id', 'text'],
  ['lineage_raw_topic', 'text'],
  ['lineage_raw_partition', 'integer'],
  ['lineage_raw_offset', 'bigint'],
  ['lineage_ingested_at', 'timestamptz'],
  ['lineage_normaliser_version', 'text'],
];

const party = (prefix: string): Array<readonly [string, string]> => PARTY_FIELDS.map((f) => [`${prefix}_${f}`, 'text'] as const);
const tail: Array<readonly [string, string]> = [['source_updated_at', 'timestamptz'], ...LINEAGE, ['warnings', 'text[]']];

export const CORE_TABLES: Readonly<Record<Dataset, CoreTable>> = Object.freeze({
  'enforcement-case': {
    dataset: 'enforcement-case',
    table: 'enforcement_case',
    idColumn: 'case_id',
    columns: [
      ['case_id', 'text'],
      ['agency_code', 'text'],
      ['agency_name', 'text'],
      ['domain', 'text'],
      ['action_type', 'text'],
      ['decision_no', 'text'],
      ...party('party'),
      ['region_code', 'text'],
      ['violation_type', 'text'],
      ['violation_facts', 'text'],
      ['legal_basis', 'text'],
      ['penalty_kinds', 'text[]'],
      ['fine_amount', 'numeric(18,2)'],
      ['confiscated_amount', 'numeric(18,2)'],
      ['measures', 'jsonb'],
      ['occurred_on', 'date'],
      ['decided_on', 'date'],
      ['status', 'text'],
      ['transferred_to_police', 'boolean'],
      ['transferred_on', 'date'],
      ...tail,
    ],
  },
  'hotline-ticket': {
    dataset: 'hotline-ticket',
    table: 'hotline_ticket',
    idColumn: 'ticket_id',
    columns: [
      ['ticket_id', 'text'],
      ['channel', 'text'],
      ['received_at', 'timestamptz'],
      ['appeal_type', 'text'],
      ['category_code', 'text'],
      ['category_name', 'text'],
      ['topics', 'text[]'],
      ['title', 'text'],
      ['content', 'text'],
      ['caller_name_masked', 'text'],
      ['caller_phone_hash', 'text'],
      ['caller_phone_masked', 'text'],
      ['region_code', 'text'],
      ['address', 'text'],
      ...party('subject'),
      ['handling_unit', 'text'],
      ['dispatched_at', 'timestamptz'],
      ['due_at', 'timestamptz'],
      ['status', 'text'],
      ['closed_at', 'timestamptz'],
      ['satisfaction', 'text'],
      ['related_ticket_ids', 'text[]'],
      ...tail,
    ],
  },
  'supervision-record': {
    dataset: 'supervision-record',
    table: 'supervision_record',
    idColumn: 'record_id',
    columns: [
      ['record_id', 'text'],
      ['procuratorate_code', 'text'],
      ['kind', 'text'],
      ['doc_no', 'text'],
      ['target_agency_code', 'text'],
      ['related_decision_nos', 'text[]'],
      ['related_case_ids', 'text[]'],
      ['related_ticket_ids', 'text[]'],
      ...party('party'),
      ['region_code', 'text'],
      ['summary', 'text'],
      ['issued_on', 'date'],
      ['reply_due_on', 'date'],
      ['replied_on', 'date'],
      ['status', 'text'],
      ...tail,
    ],
  },
});

type Rec = Record<string, unknown>;

type Accessor = (record: Rec) => unknown;

/** Where a column comes from in the canonical record: a top-level field, or a field of the nested party or lineage record. */
export interface ColumnSource {
  /** The nested record (`party`, `subject`, `lineage`), or null for a top-level field. */
  part: string | null;
  field: string;
}

export function columnSource(column: string): ColumnSource {
  const nested = /^(party|subject|lineage)_(.+)$/.exec(column);
  return nested ? { part: nested[1], field: nested[2] } : { part: null, field: column };
}

/** How one column is read from the canonical record: a party or lineage field from its nested record. */
function accessor(column: string): Accessor {
  const { part, field } = columnSource(column);
  if (part) return (record) => (record[part] as Rec | null | undefined)?.[field] ?? null;
  return (record) => record[column] ?? null;
}

const accessors = new Map<string, Accessor[]>();

/** The values of the table's columns, in column order, read from the canonical record. */
export function columnValues(table: CoreTable, record: Rec): unknown[] {
  let read = accessors.get(table.table);
  if (!read) accessors.set(table.table, (read = table.columns.map(([column]) => accessor(column))));
  return read.map((get) => get(record));
}

/** The row of a canonical record: every column of its table, keyed by column name. */
export function coreRow(table: CoreTable, record: Rec): Record<string, unknown> {
  const values = columnValues(table, record);
  const row: Record<string, unknown> = {};
  table.columns.forEach(([column], i) => {
    row[column] = values[i];
  });
  return row;
}

/** JSON text of the keys seen, so a record's fixed field names are quoted once per process (up to a bound). */
const keyJson = new Map<string, string>();
const KEY_CACHE_LIMIT = 10_000;
const quotedKey = (key: string): string => {
  let text = keyJson.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (keyJson.size < KEY_CACHE_LIMIT) keyJson.set(key, text);
  }
  return text;
};

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

/** A record decoded by avsc: an instance of a class generated per record type, whose fields are fixed by its schema. */
type AvroRecordClass = { type?: { fields?: Array<{ name: string }> } };
const avroFieldOrder = new WeakMap<object, string[]>();

/**
 * The object's keys in sorted order. A decoded Avro record's are its schema's field names,
 * sorted once per record type; any other object's are read and sorted if need be.
 */
function sortedKeys(obj: Rec): string[] {
  const ctor = obj.constructor as AvroRecordClass | undefined;
  const fields = ctor && ctor !== Object ? ctor.type?.fields : undefined;
  if (Array.isArray(fields)) {
    let keys = avroFieldOrder.get(ctor!);
    if (!keys) avroFieldOrder.set(ctor!, (keys = fields.map((f) => f.name).sort()));
    return keys;
  }
  const keys = Object.keys(obj);
  return isSorted(keys) ? keys : keys.sort();
}

/** `{…}` of the object's members in key order, undefined ones and `skip` left out. */
function objectJson(obj: Rec, skip?: string): string {
  let out = '{';
  for (const key of sortedKeys(obj)) {
    const member = obj[key];
    if (member === undefined || key === skip) continue;
    out += (out.length === 1 ? '' : ',') + quotedKey(key) + ':' + stableJson(member);
  }
  return out + '}';
}

/**
 * JSON with object keys sorted at every level (undefined members left out): the same record
 * always gives the same text. On the sink's hot path, so keys are sorted once per record type.
 */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + stableJson(value[i]);
    return out + ']';
  }
  return objectJson(value as Rec);
}

/** SHA-256 in hex; one-shot `crypto.hash` where Node has it (20.12+), the Hash object otherwise. */
export const sha256: (data: string | Uint8Array) => string =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data) : (data) => crypto.createHash('sha256').update(data).digest('hex');

/** A version of a record as the warehouse stores it: its content hash and the whole record as JSON text. */
export interface VersionText {
  contentHash: string;
  json: string;
}

/**
 * What makes two versions the same: the record without its lineage. A version normalised
 * again (a replay, a re-send) lands at another raw offset but says the same thing, so it
 * must not count as a new version in history. The record's JSON is the hashed text with the
 * lineage put back, so the record is serialised once.
 */
export function versionText(record: Rec): VersionText {
  const text = objectJson(record, 'lineage');
  const hash = sha256(text);
  const lineage = record.lineage;
  if (lineage === undefined) return { contentHash: hash, json: text };
  return { contentHash: hash, json: `{"lineage":${stableJson(lineage)}${text === '{}' ? '}' : `,${text.slice(1)}`}` };
}

export function contentHash(record: Rec): string {
  return sha256(objectJson(record, 'lineage'));
}
