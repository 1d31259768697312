import type { Knex } from 'knex';

/**
 * The exchange API's keys and its audit trail.
 *
 * - `ops.api_keys`: one row per key an agency (or downstream system) holds. Only a hash of the
 *   secret is stored; the key itself is shown once when `liandong agency add` creates it.
 * - `ops.audit_log`: every request, append-only and hash-chained: each row's `hash` covers its
 *   own fields and the previous row's hash, so changing, deleting or inserting a row breaks the
 *   chain from there on (`liandong audit verify`). A trigger refuses UPDATE and DELETE, so a
 *   change needs someone who can disable triggers — and then verify shows it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table ops.api_keys (
    key_id text primary key,
    agency_code text not null,
    agency_name text not null,
    secret_hash text not null,
    scopes text[] not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz,
    last_used_at timestamptz
  )`);
  await knex.raw(`create index api_keys_agency_idx on ops.api_keys (agency_code)`);

  await knex.raw(`create table ops.audit_log (
    seq bigint primary key,
    at timestamptz not null,
    request_id text not null,
    key_id text,
    agency_code text,
    method text not null,
    route text not null,
    dataset text,
    record_count integer not null default 0,
    status integer not null,
    outcome text not null,
    prev_hash text not null,
    hash text not null
  )`);
  await knex.raw(`create index audit_log_at_idx on ops.audit_log (at)`);
  await knex.raw(`create index audit_log_agency_idx on ops.audit_log (agency_code, seq)`);
  await knex.raw(`create function ops.audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'ops.audit_log is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
    end $$`);
  await knex.raw(`create trigger audit_log_append_only before update or delete on ops.audit_log
    for each row execute function ops.audit_log_append_only()`);
  await knex.raw(`create trigger audit_log_no_truncate before truncate on ops.audit_log
    for each statement execute function ops.audit_log_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists ops.audit_log');
  await knex.raw('drop function if exists ops.audit_log_append_only()');
  await knex.raw('drop table if exists ops.api_keys');
}
