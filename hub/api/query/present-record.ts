import { maskPersonName } from '../../../pipelines/normalise/pii';
import { maskPiiInText } from '../../../pipelines/normalise/parsers/mask-text';
import { CORE_TABLES, type CoreTable } from '../../../pipelines/warehouse/core-rows';
import { loadSchema, type Dataset } from '../../../schemas/catalog';
import { normaliserKind, personalFields } from './fields';

/**
 * A warehouse row back in the data standard's shape (the party and the lineage nested again,
 * dates `YYYY-MM-DD`, timestamps ISO UTC with milliseconds, amounts as decimal strings — the
 * values a consumer of the canonical topic decodes), then protected for the caller.
 *
 * @example
 *   const rows = await db.select(db.raw(selectList(table))).from('core.enforcement_case');
 *   const record = presentRecord('enforcement-case', rows[0], { pii: false });
 *   record.party.id_hash; // undefined: keyed hashes only with read:pii
 */

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The select list of a core table, typed so that the driver hands back the canonical text forms. */
export function selectList(table: CoreTable, alias = ''): string {
  const at = alias ? `${alias}.` : '';
  return table.columns
    .map(([name, type]) => {
      const col = `${at}${ident(name)}`;
      if (type === 'date') return `to_char(${col}, 'YYYY-MM-DD') as ${ident(name)}`;
      if (type === 'timestamptz') return `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${ident(name)}`;
      if (type.startsWith('numeric')) return `${col}::text as ${ident(name)}`;
      return col;
    })
    .join(', ');
}

interface AvroFieldLite {
  name: string;
  type: unknown;
}

const isNullable = (type: unknown) => Array.isArray(type) && type.includes('null');
const recordFields = (type: unknown): AvroFieldLite[] | null => {
  const t = (Array.isArray(type) ? type.find((x) => x !== 'null') : type) as { type?: string; fields?: AvroFieldLite[] };
  return t?.type === 'record' ? (t.fields ?? []) : null;
};

/** The record a row holds, fields in the schema's order; `coreRow`'s inverse. */
export function toCanonical(dataset: Dataset, row: Record<string, unknown>): Record<string, unknown> {
  const types = new Map(CORE_TABLES[dataset].columns.map(([n, t]) => [n, t]));
  const value = (column: string) => {
    const v = row[column] ?? null;
    // bigint arrives as text from the driver; offsets stay far below 2^53.
    return types.get(column) === 'bigint' && v !== null ? Number(v) : v;
  };
  const out: Record<string, unknown> = {};
  for (const field of loadSchema(dataset).fields as readonly AvroFieldLite[]) {
    const nested = recordFields(field.type);
    if (nested) {
      const part: Record<string, unknown> = {};
      for (const sub of nested) part[sub.name] = value(`${field.name}_${sub.name}`);
      out[field.name] = isNullable(field.type) && Object.values(part).every((v) => v === null) ? null : part;
    } else {
      out[field.name] = value(field.name);
    }
  }
  return out;
}

const ORGANISATION_KINDS = new Set(['ORGANISATION', 'SOLE_PROPRIETOR']);

function parentOf(record: Record<string, unknown>, path: string): { parent: Record<string, unknown> | null; key: string } {
  const parts = path.split('.');
  let parent: unknown = record;
  for (const p of parts.slice(0, -1)) parent = (parent as Record<string, unknown> | null)?.[p] ?? null;
  return { parent: parent && typeof parent === 'object' ? (parent as Record<string, unknown>) : null, key: parts[parts.length - 1] };
}

/**
 * What a caller sees of a record. Without `read:pii`: keyed hashes are left out (an HMAC of an
 * ID number identifies the person as surely as the number does wherever the hub's key is used),
 * and every masked or free-text field goes through the normaliser's masks once more — they are
 * idempotent on what was masked at normalisation, and catch a row written before a mask was
 * fixed. With `read:pii`: the stored values, hashes included. The warehouse never holds a clear
 * ID or phone number or an individual's clear name, so `read:pii` cannot unmask those.
 */
export function protectRecord(dataset: Dataset, record: Record<string, unknown>, opts: { pii: boolean }): Record<string, unknown> {
  if (opts.pii) return record;
  const out = structuredClone(record);
  for (const field of personalFields(dataset)) {
    const { parent, key } = parentOf(out, field.path);
    if (!parent || !(key in parent)) continue;
    const value = parent[key];
    switch (field.protection) {
      case 'keyed_hash':
        delete parent[key];
        break;
      case 'masked_if_individual':
        if (typeof value === 'string' && !ORGANISATION_KINDS.has(String(parent.kind))) parent[key] = maskPersonName(value);
        break;
      case 'masked':
        if (typeof value === 'string') parent[key] = normaliserKind(dataset, field.path) === 'person_name' ? maskPersonName(value) : maskPiiInText(value).text;
        break;
      case 'masked_free_text':
        if (typeof value === 'string') parent[key] = maskPiiInText(value).text;
        break;
    }
  }
  return out;
}

/** A row as the caller may see it. */
export function presentRecord(dataset: Dataset, row: Record<string, unknown>, opts: { pii: boolean }): Record<string, unknown> {
  return protectRecord(dataset, toCanonical(dataset, row), opts);
}

/** A party key as the caller may see it: `ID:<hash>` carries the keyed hash, so only with read:pii. */
export function visiblePartyKey(partyKey: string | null, opts: { pii: boolean }): string | null {
  if (partyKey === null) return null;
  return !opts.pii && partyKey.startsWith('ID:') ? null : partyKey;
}
