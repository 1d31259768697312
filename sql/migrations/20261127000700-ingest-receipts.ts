import type { Knex } from 'knex';

/**
 * Receipts of the push API (`POST /v1/ingest/:dataset`) and the fates of what they carried.
 *
 * - `ops.ingest_receipts`: one row per accepted request. `send_deadline` is when its records
 *   should be on their raw topic; a record of a receipt past it whose raw position is still
 *   unknown is presumed lost (the hub died mid-send) and a re-post sends it again.
 * - `ops.ingest_records`: one row per record of a request, by its index in the batch:
 *   `accepted` (a new version, sent to `raw_topic`), `duplicate` (a version already accepted:
 *   `original_*` names the accepted row, never another duplicate) or `rejected` (at the door:
 *   `reject_code`, `reject_message`). The payload itself is never stored here, only its
 *   digest: it lives in the restricted raw topic. `raw_partition`/`raw_offset` are filled by the
 *   receipt tracker when it sees the message on the raw topic (its run_id is the receipt id).
 *   One accepted row per version (raw topic, record key, payload digest): the unique index is
 *   what makes re-posting idempotent, also between concurrent requests.
 * - `ops.ingest_canonical`: the canonical record each raw position of a push topic became, as
 *   the tracker read it from the canonical topics. Dead letters are in ops.dlq, keyed the same way.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table ops.ingest_receipts (
    receipt_id text primary key,
    key_id text not null,
    agency_code text not null,
    source_id text not null,
    dataset text not null,
    received_at timestamptz not null default now(),
    record_count integer not null,
    send_deadline timestamptz not null
  )`);
  await knex.raw(`create index ingest_receipts_agency_idx on ops.ingest_receipts (agency_code, received_at)`);
  await knex.raw(`create index ingest_receipts_received_idx on ops.ingest_receipts (received_at)`);

  await knex.raw(`create table ops.ingest_records (
    receipt_id text not null references ops.ingest_receipts (receipt_id) on delete cascade,
    idx integer not null,
    raw_topic text not null,
    record_key text,
    payload_sha256 text,
    outcome text not null,
    raw_partition integer,
    raw_offset bigint,
    original_receipt_id text,
    original_idx integer,
    reject_code text,
    reject_message text,
    primary key (receipt_id, idx),
    constraint ingest_records_outcome_check check (
      (outcome = 'accepted' and record_key is not null and payload_sha256 is not null and original_receipt_id is null)
      or (outcome = 'duplicate' and record_key is not null and payload_sha256 is not null and original_receipt_id is not null and original_idx is not null and raw_offset is null)
      or (outcome = 'rejected' and reject_code is not null and reject_message is not null and raw_offset is null)
    )
  )`);
  await knex.raw(`create unique index ingest_records_version_idx on ops.ingest_records (raw_topic, record_key, payload_sha256) where outcome = 'accepted'`);

  await knex.raw(`create table ops.ingest_canonical (
    raw_topic text not null,
    raw_partition integer not null,
    raw_offset bigint not null,
    dataset text not null,
    record_id text not null,
    recorded_at timestamptz not null default now(),
    primary key (raw_topic, raw_partition, raw_offset)
  )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists ops.ingest_canonical');
  await knex.raw('drop table if exists ops.ingest_records');
  await knex.raw('drop table if exists ops.ingest_receipts');
}
