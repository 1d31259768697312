import { DATASET_TOPICS, Dataset } from '../../schemas/catalog';

/**
 * What a source mapping may write, per dataset: every mappable field of the canonical
 * records (DATA-STANDARD.md) with the kind of value it holds. The kind picks the default
 * parser and the post-processing, so a mapping usually names only the source column.
 *
 * Kinds:
 * - `string`: trimmed text, full-width ASCII folded (identifiers, names of agencies);
 * - `text`: free text that may contain personal data: ID and phone numbers are masked;
 * - `person_name`: an individual's name, kept only in masked form (张**);
 * - `enum` / `enum_list`: a canonical symbol (or list), mapped from Chinese labels;
 * - `money`, `date`, `timestamp`, `boolean`, `region`, `uscc`, `string_list`;
 * - `id_number` / `phone`: hashed and masked into `<target>_hash` and `<target>_masked`.
 */
export type FieldKind =
  | 'string'
  | 'text'
  | 'person_name'
  | 'enum'
  | 'enum_list'
  | 'money'
  | 'date'
  | 'timestamp'
  | 'boolean'
  | 'region'
  | 'uscc'
  | 'string_list'
  | 'id_number'
  | 'phone';

export interface FieldSpec {
  kind: FieldKind;
  /** For enums: the enum's label table name in DEFAULT_ENUM_LABELS. */
  labels?: string;
  /** For enums: the fallback symbol (the Avro enum's default). */
  fallback?: string;
  /** Required fields make the record a dead letter when absent (MISSING_FIELD). */
  required?: boolean;
}

export type { Dataset };
export const DATASETS = Object.keys(DATASET_TOPICS) as Dataset[];

/** The party record shared by the three datasets; `party.id` writes id_hash and id_masked. */
function partyFields(prefix: string): Record<string, FieldSpec> {
  return {
    [`${prefix}.kind`]: { kind: 'enum', labels: 'party_kind', fallback: 'UNKNOWN' },
    [`${prefix}.name`]: { kind: 'string' },
    [`${prefix}.uscc`]: { kind: 'uscc' },
    [`${prefix}.id`]: { kind: 'id_number' },
    [`${prefix}.region_code`]: { kind: 'region' },
  };
}

export const CANONICAL_FIELDS: Record<Dataset, Record<string, FieldSpec>> = {
  'enforcement-case': {
    case_id: { kind: 'string', required: true },
    agency_code: { kind: 'string', required: true },
    agency_name: { kind: 'string', required: true },
    domain: { kind: 'enum', labels: 'domain', fallback: 'OTHER' },
    action_type: { kind: 'enum', labels: 'action_type', fallback: 'OTHER' },
    decision_no: { kind: 'string' },
    ...partyFields('party'),
    region_code: { kind: 'region' },
    violation_type: { kind: 'string' },
    violation_facts: { kind: 'text' },
    legal_basis: { kind: 'string' },
    penalty_kinds: { kind: 'enum_list', labels: 'penalty_kind', fallback: 'OTHER' },
    fine_amount: { kind: 'money' },
    confiscated_amount: { kind: 'money' },
    occurred_on: { kind: 'date' },
    decided_on: { kind: 'date' },
    status: { kind: 'enum', labels: 'case_status', fallback: 'UNKNOWN' },
    transferred_to_police: { kind: 'boolean' },
    transferred_on: { kind: 'date' },
    source_updated_at: { kind: 'timestamp' },
  },
  'hotline-ticket': {
    ticket_id: { kind: 'string', required: true },
    channel: { kind: 'enum', labels: 'channel', fallback: 'OTHER' },
    received_at: { kind: 'timestamp', required: true },
    appeal_type: { kind: 'enum', labels: 'appeal_type', fallback: 'OTHER' },
    category_code: { kind: 'string' },
    category_name: { kind: 'string' },
    topics: { kind: 'enum_list', labels: 'topic', fallback: 'OTHER' },
    title: { kind: 'text' },
    content: { kind: 'text' },
    caller_name: { kind: 'person_name' },
    caller_phone: { kind: 'phone' },
    region_code: { kind: 'region' },
    address: { kind: 'text' },
    ...partyFields('subject'),
    handling_unit: { kind: 'string' },
    dispatched_at: { kind: 'timestamp' },
    due_at: { kind: 'timestamp' },
    status: { kind: 'enum', labels: 'ticket_status', fallback: 'UNKNOWN' },
    closed_at: { kind: 'timestamp' },
    satisfaction: { kind: 'enum', labels: 'satisfaction', fallback: 'NOT_RATED' },
    related_ticket_ids: { kind: 'string_list' },
    source_updated_at: { kind: 'timestamp' },
  },
  'supervision-record': {
    record_id: { kind: 'string', required: true },
    procuratorate_code: { kind: 'string', required: true },
    kind: { kind: 'enum', labels: 'supervision_kind', fallback: 'OTHER' },
    doc_no: { kind: 'string' },
    target_agency_code: { kind: 'string' },
    related_decision_nos: { kind: 'string_list' },
    related_case_ids: { kind: 'string_list' },
    related_ticket_ids: { kind: 'string_list' },
    ...partyFields('party'),
    region_code: { kind: 'region' },
    summary: { kind: 'text' },
    issued_on: { kind: 'date' },
    reply_due_on: { kind: 'date' },
    replied_on: { kind: 'date' },
    status: { kind: 'enum', labels: 'supervision_status', fallback: 'UNKNOWN' },
    source_updated_at: { kind: 'timestamp' },
  },
};

/** The field that identifies a record of a dataset; also its Kafka key. */
export const RECORD_ID_FIELD: Record<Dataset, string> = {
  'enforcement-case': 'case_id',
  'hotline-ticket': 'ticket_id',
  'supervision-record': 'record_id',
};

/** Canonical `measures` names (DATA-STANDARD.md) and the quantity each holds. */
export const MEASURE_KINDS = {
  ILLEGAL_TURNOVER: 'money',
  ILLEGAL_GAIN: 'money',
  SALES_AMOUNT: 'money',
  GOODS_VALUE: 'money',
  LOSS_AMOUNT: 'money',
  BASIC_FARMLAND_AREA: 'area',
  FARMLAND_AREA: 'area',
  FOREST_LAND_AREA: 'area',
  PUBLIC_WELFARE_FOREST_AREA: 'area',
  GRASSLAND_AREA: 'area',
  TIMBER_VOLUME: 'volume',
  SAPLINGS: 'count',
  HAZARDOUS_WASTE: 'weight',
  WORKERS_UNPAID: 'count',
  WAGES_UNPAID: 'money',
  DEPOSITORS: 'count',
  DEATHS: 'count',
  SERIOUS_INJURIES: 'count',
} as const;
export type MeasureName = keyof typeof MEASURE_KINDS;
