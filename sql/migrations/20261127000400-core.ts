import type { Knex } from 'knex';

/**
 * The warehouse's current state and history of the three canonical datasets, and the sink's
 * consumer offsets.
 *
 * - `core.<dataset>`: one row per record id at its newest source version (`source_updated_at`),
 *   with the data standard's fields as columns (party flattened, measures as jsonb) and
 *   `recorded_at`, when the hub learned that version.
 * - `core.<dataset>_history`: every version ever seen, as the full canonical record (jsonb),
 *   with valid time (`source_updated_at`) and recorded time; the unique key on
 *   (id, source_updated_at, content_hash) keeps any version from appearing twice.
 * - `ops.consumer_offsets`: the next Kafka offset per consumer and partition, written in the
 *   same transaction as the rows, so PostgreSQL (not Kafka) says what has been applied.
 *
 * The column lists are spelled out here rather than imported: a migration is a snapshot and
 * must not change when the sink's code does.
 */

const PARTY = (prefix: string) => `
  ${prefix}_kind text,
  ${prefix}_name text,
  ${prefix}_uscc text,
  ${prefix}_id_hash text,
  ${prefix}_id_masked text,
  ${prefix}_region_code text`;

const TAIL = `
  source_updated_at timestamptz not null,
  lineage_source_id text not null,
  lineage_raw_topic text not null,
  lineage_raw_partition integer not null,
  lineage_raw_offset bigint not null,
  lineage_ingested_at timestamptz not null,
  lineage_normaliser_version text not null,
  warnings text[] not null default '{}',
  content_hash text not null,
  recorded_at timestamptz not null`;

const CURRENT: Array<[table: string, id: string, columns: string]> = [
  [
    'enforcement_case',
    'case_id',
    `
  case_id text primary key,
  agency_code text not null,
  agency_name text not null,
  domain text not null,
  action_type text not null,
  decision_no text,${PARTY('party')},
  region_code text,
  violation_type text,
  violation_facts text,
  legal_basis text,
  penalty_kinds text[] not null default '{}',
  fine_amount numeric(18,2),
  confiscated_amount numeric(18,2),
  measures jsonb not null default '[]',
  occurred_on date,
  decided_on date,
  status text not null,
  transferred_to_police boolean not null,
  transferred_on date,${TAIL}`,
  ],
  [
    'hotline_ticket',
    'ticket_id',
    `
  ticket_id text primary key,
  channel text not null,
  received_at timestamptz not null,
  appeal_type text not null,
  category_code text,
  category_name text,
  topics text[] not null default '{}',
  title text,
  content text,
  caller_name_masked text,
  caller_phone_hash text,
  caller_phone_masked text,
  region_code text,
  address text,${PARTY('subject')},
  handling_unit text,
  dispatched_at timestamptz,
  due_at timestamptz,
  status text not null,
  closed_at timestamptz,
  satisfaction text not null,
  related_ticket_ids text[] not null default '{}',${TAIL}`,
  ],
  [
    'supervision_record',
    'record_id',
    `
  record_id text primary key,
  procuratorate_code text not null,
  kind text not null,
  doc_no text,
  target_agency_code text,
  related_decision_nos text[] not null default '{}',
  related_case_ids text[] not null default '{}',
  related_ticket_ids text[] not null default '{}',${PARTY('party')},
  region_code text,
  summary text,
  issued_on date,
  reply_due_on date,
  replied_on date,
  status text not null,${TAIL}`,
  ],
];

/** Lookups the links and marts will need: by credit code, by decision number. */
const INDEXES = [
  'create index enforcement_case_party_uscc_idx on core.enforcement_case (party_uscc)',
  'create index enforcement_case_decision_no_idx on core.enforcement_case (decision_no)',
  'create index hotline_ticket_subject_uscc_idx on core.hotline_ticket (subject_uscc)',
  'create index supervision_record_party_uscc_idx on core.supervision_record (party_uscc)',
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, id, columns] of CURRENT) {
    await knex.raw(`create table core.${table} (${columns}\n)`);
    await knex.raw(`
      create table core.${table}_history (
        ${id} text not null,
        source_updated_at timestamptz not null,
        recorded_at timestamptz not null,
        content_hash text not null,
        record jsonb not null,
        constraint ${table}_history_version_key unique (${id}, source_updated_at, content_hash)
      )`);
  }
  for (const statement of INDEXES) await knex.raw(statement);
  await knex.raw(`
    create table ops.consumer_offsets (
      consumer text not null,
      topic text not null,
      partition integer not null,
      next_offset bigint not null,
      updated_at timestamptz not null default now(),
      primary key (consumer, topic, partition)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists ops.consumer_offsets');
  for (const [table] of [...CURRENT].reverse()) {
    await knex.raw(`drop table if exists core.${table}_history`);
    await knex.raw(`drop table if exists core.${table}`);
  }
}
