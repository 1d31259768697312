import fs from 'node:fs';
import path from 'node:path';
import { Type } from 'avsc';
import { avroType, loadSchema, SCHEMA_FILES, SchemaName, schemasDir } from '../../../schemas/catalog';

// The data standard (DATA-STANDARD.md), written out by hand: each field with the kind of type
// the standard gives it. `?` = union with null, default null; `[]` = array, default [].
type Kind =
  | 'string' | 'string?' | 'boolean' | 'int' | 'long' | 'double' | 'ts' | 'ts?' | 'date?' | 'money?'
  | 'enum' | 'enum[]' | 'string[]' | 'party' | 'party?' | 'lineage' | 'measure[]' | 'raw-position' | 'error[]';

const LINEAGE: Array<[string, Kind]> = [
  ['source_id', 'string'], ['raw_topic', 'string'], ['raw_partition', 'int'], ['raw_offset', 'long'],
  ['ingested_at', 'ts'], ['normaliser_version', 'string'],
];
const PARTY: Array<[string, Kind]> = [
  ['kind', 'enum'], ['name', 'string?'], ['uscc', 'string?'], ['id_hash', 'string?'], ['id_masked', 'string?'], ['region_code', 'string?'],
];
const MEASURE: Array<[string, Kind]> = [['name', 'string'], ['value', 'double'], ['unit', 'string']];

const STANDARD: Record<SchemaName, { record: string; fields: Array<[string, Kind]> }> = {
  'enforcement-case': {
    record: 'EnforcementCase',
    fields: [
      ['case_id', 'string'], ['agency_code', 'string'], ['agency_name', 'string'], ['domain', 'enum'], ['action_type', 'enum'],
      ['decision_no', 'string?'], ['party', 'party'], ['region_code', 'string?'], ['violation_type', 'string?'],
      ['violation_facts', 'string?'], ['legal_basis', 'string?'], ['penalty_kinds', 'enum[]'], ['fine_amount', 'money?'],
      ['confiscated_amount', 'money?'], ['measures', 'measure[]'], ['occurred_on', 'date?'], ['decided_on', 'date?'],
      ['status', 'enum'], ['transferred_to_police', 'boolean'], ['transferred_on', 'date?'], ['source_updated_at', 'ts'],
      ['lineage', 'lineage'], ['warnings', 'string[]'],
    ],
  },
  'hotline-ticket': {
    record: 'HotlineTicket',
    fields: [
      ['ticket_id', 'string'], ['channel', 'enum'], ['received_at', 'ts'], ['appeal_type', 'enum'], ['category_code', 'string?'],
      ['category_name', 'string?'], ['topics', 'enum[]'], ['title', 'string?'], ['content', 'string?'],
      ['caller_name_masked', 'string?'], ['caller_phone_hash', 'string?'], ['caller_phone_masked', 'string?'],
      ['region_code', 'string?'], ['address', 'string?'], ['subject', 'party?'], ['handling_unit', 'string?'],
      ['dispatched_at', 'ts?'], ['due_at', 'ts?'], ['status', 'enum'], ['closed_at', 'ts?'], ['satisfaction', 'enum'],
      ['related_ticket_ids', 'string[]'], ['source_updated_at', 'ts'], ['lineage', 'lineage'], ['warnings', 'string[]'],
    ],
  },
  'supervision-record': {
    record: 'SupervisionRecord',
    fields: [
      ['record_id', 'string'], ['procuratorate_code', 'string'], ['kind', 'enum'], ['doc_no', 'string?'],
      ['target_agency_code', 'string?'], ['related_decision_nos', 'string[]'], ['related_case_ids', 'string[]'],
      ['related_ticket_ids', 'string[]'], ['party', 'party?'], ['region_code', 'string?'], ['summary', 'string?'],
      ['issued_on', 'date?'], ['reply_due_on', 'date?'], ['replied_on', 'date?'], ['status', 'enum'],
      ['source_updated_at', 'ts'], ['lineage', 'lineage'], ['warnings', 'string[]'],
    ],
  },
  'raw-envelope': {
    record: 'RawEnvelope',
    fields: [
      ['source_id', 'string'], ['dataset', 'string'], ['record_key', 'string'], ['received_at', 'ts'], ['content_type', 'string'],
      ['payload', 'string'], ['payload_sha256', 'string'], ['run_id', 'string'],
    ],
  },
  'dlq-record': {
    record: 'DeadLetter',
    fields: [
      ['raw', 'raw-position'], ['source_id', 'string'], ['dataset', 'string'], ['record_key', 'string?'] /* null when the raw message had no key */, ['errors', 'error[]'],
      ['normaliser_version', 'string'], ['failed_at', 'ts'],
    ],
  },
};

// Enum symbols and fallback (default) symbol, by enum field, as the standard lists them.
const ENUMS: Record<string, { symbols: string[]; fallback: string }> = {
  'enforcement-case.domain': {
    symbols: ['MARKET', 'ENVIRONMENT', 'NATURAL_RESOURCES', 'FORESTRY_GRASSLAND', 'AGRICULTURE', 'WATER', 'EMERGENCY_SAFETY', 'HUMAN_RESOURCES', 'HEALTH', 'CULTURE_HERITAGE', 'TRANSPORT', 'HOUSING_CONSTRUCTION', 'OTHER'],
    fallback: 'OTHER',
  },
  'enforcement-case.action_type': { symbols: ['PENALTY', 'COERCIVE_MEASURE', 'INSPECTION', 'ORDER_TO_CORRECT', 'OTHER'], fallback: 'OTHER' },
  'enforcement-case.penalty_kinds': { symbols: ['WARNING', 'FINE', 'CONFISCATION', 'SUSPENSION', 'REVOCATION', 'DETENTION', 'OTHER'], fallback: 'OTHER' },
  'enforcement-case.status': { symbols: ['REGISTERED', 'INVESTIGATING', 'DECIDED', 'EXECUTED', 'CLOSED', 'TRANSFERRED', 'REVOKED', 'UNKNOWN'], fallback: 'UNKNOWN' },
  'hotline-ticket.channel': { symbols: ['PHONE', 'WEB', 'APP', 'WECHAT', 'MINI_PROGRAM', 'EMAIL', 'OTHER'], fallback: 'OTHER' },
  'hotline-ticket.appeal_type': { symbols: ['CONSULTATION', 'HELP', 'COMPLAINT', 'REPORT', 'SUGGESTION', 'PRAISE', 'OTHER'], fallback: 'OTHER' },
  'hotline-ticket.topics': {
    symbols: ['ENVIRONMENT', 'FOOD_DRUG_SAFETY', 'WAGE_ARREARS', 'FARMLAND', 'FORESTRY', 'HERITAGE', 'MARKET_ORDER', 'SAFETY', 'FRAUD', 'OTHER'],
    fallback: 'OTHER',
  },
  'hotline-ticket.status': { symbols: ['RECEIVED', 'DISPATCHED', 'IN_PROGRESS', 'REPLIED', 'CLOSED', 'RETURNED', 'REOPENED', 'UNKNOWN'], fallback: 'UNKNOWN' },
  'hotline-ticket.satisfaction': { symbols: ['SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED', 'NOT_RATED'], fallback: 'NOT_RATED' },
  'supervision-record.kind': {
    symbols: ['PETITION_12309', 'PIL_LEAD', 'PIL_PRELITIGATION_SUGGESTION', 'PROCURATORIAL_SUGGESTION', 'TRANSFER_OPINION', 'REVERSE_TRANSFER_OPINION', 'FILING_SUPERVISION', 'NON_PROSECUTION', 'OTHER'],
    fallback: 'OTHER',
  },
  'supervision-record.status': { symbols: ['OPEN', 'AWAITING_REPLY', 'REPLIED', 'CLOSED', 'WITHDRAWN', 'UNKNOWN'], fallback: 'UNKNOWN' },
  'party.kind': { symbols: ['ORGANISATION', 'INDIVIDUAL', 'SOLE_PROPRIETOR', 'UNKNOWN'], fallback: 'UNKNOWN' },
};

type Json = Record<string, unknown>;
interface Field { name: string; type: unknown; default?: unknown; doc?: string }

const CANONICAL: SchemaName[] = ['enforcement-case', 'hotline-ticket', 'supervision-record'];
const ALL = Object.keys(SCHEMA_FILES) as SchemaName[];

const isLogical = (t: unknown, logicalType: string, base: string) => (t as Json)?.logicalType === logicalType && (t as Json).type === base;
const isMoney = (t: unknown) => isLogical(t, 'decimal', 'bytes') && (t as Json).precision === 18 && (t as Json).scale === 2;
const isRecord = (t: unknown, name: string) => (t as Json)?.type === 'record' && (t as Json).name === name;

/** The kind of a field's type, in the vocabulary of the standard (undefined when it matches none). */
function kindOf(field: Field): Kind | undefined {
  const t = field.type;
  if (Array.isArray(t)) {
    if (t.length !== 2 || t[0] !== 'null' || !Object.hasOwn(field, 'default') || field.default !== null) return undefined;
    const [, inner] = t;
    if (inner === 'string') return 'string?';
    if (isLogical(inner, 'timestamp-millis', 'long')) return 'ts?';
    if (isLogical(inner, 'date', 'int')) return 'date?';
    if (isMoney(inner)) return 'money?';
    if (isRecord(inner, 'Party')) return 'party?';
    return undefined;
  }
  if (typeof t === 'string') return ['string', 'boolean', 'int', 'long', 'double'].includes(t) ? (t as Kind) : undefined;
  const o = t as Json;
  if (isLogical(o, 'timestamp-millis', 'long')) return 'ts';
  if (o.type === 'enum') return 'enum';
  if (isRecord(o, 'Party')) return 'party';
  if (isRecord(o, 'Lineage')) return 'lineage';
  if (isRecord(o, 'RawPosition')) return 'raw-position';
  if (o.type === 'array') {
    if (!Array.isArray(field.default) || field.default.length !== 0) return undefined;
    const items = o.items as Json | string;
    if (items === 'string') return 'string[]';
    if ((items as Json).type === 'enum') return 'enum[]';
    if (isRecord(items, 'Measure')) return 'measure[]';
    if (isRecord(items, 'ValidationIssue')) return 'error[]';
  }
  return undefined;
}

/** Every named type defined anywhere in a schema, by name (the first definition wins). */
function definitions(node: unknown, found = new Map<string, Json>()): Map<string, Json> {
  if (Array.isArray(node)) node.forEach((n) => definitions(n, found));
  else if (node && typeof node === 'object') {
    const o = node as Json;
    if (typeof o.name === 'string' && ['record', 'enum', 'fixed'].includes(o.type as string) && !found.has(o.name)) found.set(o.name, o);
    for (const value of Object.values(o)) definitions(value, found);
  }
  return found;
}

function recordFields(schema: unknown): Field[] {
  return (schema as { fields: Field[] }).fields;
}

describe('the .avsc files', () => {
  it('are exactly the five the catalog names', () => {
    const files = fs.readdirSync(schemasDir()).filter((f) => f.endsWith('.avsc')).sort();
    expect(files).toEqual(Object.values(SCHEMA_FILES).sort());
    expect(path.basename(schemasDir())).toBe('schemas');
  });

  it.each(ALL)('%s parses with avsc (logical types asserted) into a record of namespace liandong.v1', (name) => {
    const schema = loadSchema(name);
    expect(schema).toMatchObject({ type: 'record', namespace: 'liandong.v1', name: STANDARD[name].record });
    const type = avroType(name);
    expect(type.name).toBe(`liandong.v1.${STANDARD[name].record}`);
    // And without the logical types too: a consumer with another Avro library still reads it.
    expect(() => Type.forSchema(structuredClone(schema) as never)).not.toThrow();
  });

  it.each(ALL)('%s has exactly the data-standard fields, in order, with the standard types', (name) => {
    const fields = recordFields(loadSchema(name));
    expect(fields.map((f) => f.name)).toEqual(STANDARD[name].fields.map(([field]) => field));
    expect(fields.map((f) => [f.name, kindOf(f)])).toEqual(STANDARD[name].fields);
  });

  it.each(CANONICAL)('%s embeds Party, Lineage (and Measure) with the standard fields', (name) => {
    const defs = definitions(loadSchema(name));
    expect(recordFields(defs.get('Party')).map((f) => [f.name, kindOf(f)])).toEqual(PARTY);
    expect(recordFields(defs.get('Lineage')).map((f) => [f.name, kindOf(f)])).toEqual(LINEAGE);
    if (name === 'enforcement-case') expect(recordFields(defs.get('Measure')).map((f) => [f.name, kindOf(f)])).toEqual(MEASURE);
  });

  it('define Party and Lineage identically in the three canonical files', () => {
    const [first, ...rest] = CANONICAL.map((name) => definitions(loadSchema(name)));
    for (const defs of rest) {
      expect(defs.get('Party')).toEqual(first.get('Party'));
      expect(defs.get('PartyKind')).toEqual(first.get('PartyKind'));
      expect(defs.get('Lineage')).toEqual(first.get('Lineage'));
    }
    expect(first.get('Party')).toBeDefined();
    expect(first.get('Lineage')).toBeDefined();
  });

  it('define no schema references: every named type they use is defined in the same file', () => {
    for (const name of ALL) {
      const defs = definitions(loadSchema(name));
      const referenced: string[] = [];
      const builtIn = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string', 'record', 'enum', 'array', 'map', 'fixed'];
      const walk = (node: unknown): void => {
        if (typeof node === 'string' && !builtIn.includes(node)) referenced.push(node);
        else if (Array.isArray(node)) node.forEach(walk);
        else if (node && typeof node === 'object') {
          const o = node as Json;
          walk(o.type);
          walk(o.items);
          walk(o.values);
          (o.fields as Field[] | undefined)?.forEach((f) => walk(f.type));
        }
      };
      walk(loadSchema(name));
      expect({ name, missing: referenced.filter((r) => !defs.has(r.replace(/^liandong\.v1\./, ''))) }).toEqual({ name, missing: [] });
    }
  });

  it('give every enum the standard symbols and its fallback symbol as the default', () => {
    const seen: string[] = [];
    for (const name of CANONICAL) {
      for (const field of recordFields(loadSchema(name))) {
        const t = field.type as Json;
        const enumType = (t.type === 'enum' ? t : t.type === 'array' && (t.items as Json).type === 'enum' ? t.items : undefined) as Json | undefined;
        if (!enumType) continue;
        const key = `${name}.${field.name}`;
        seen.push(key);
        expect({ key, symbols: enumType.symbols, default: enumType.default }).toEqual({ key, symbols: ENUMS[key].symbols, default: ENUMS[key].fallback });
      }
    }
    const partyKind = definitions(loadSchema('enforcement-case')).get('PartyKind')!;
    expect({ symbols: partyKind.symbols, default: partyKind.default }).toEqual({ symbols: ENUMS['party.kind'].symbols, default: ENUMS['party.kind'].fallback });
    expect(seen.sort()).toEqual(Object.keys(ENUMS).filter((k) => !k.startsWith('party.')).sort());
  });

  it('give every enum in every file a default symbol', () => {
    for (const name of ALL) {
      for (const def of definitions(loadSchema(name)).values()) {
        if (def.type === 'enum') expect({ name, enum: def.name, hasDefault: (def.symbols as string[]).includes(def.default as string) }).toEqual({ name, enum: def.name, hasDefault: true });
      }
    }
  });

  it('document every record, enum and field', () => {
    const undocumented: string[] = [];
    for (const name of ALL) {
      for (const def of definitions(loadSchema(name)).values()) {
        if (typeof def.doc !== 'string' || def.doc.trim() === '') undocumented.push(`${name}: ${String(def.name)}`);
        for (const field of (def.fields as Field[] | undefined) ?? []) {
          if (typeof field.doc !== 'string' || field.doc.trim() === '') undocumented.push(`${name}: ${String(def.name)}.${field.name}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });
});
