import type { Knex } from 'knex';

/**
 * `core.party` no longer stores when a party was first and last seen: they are read from the
 * history of the records that name it (`partySeenSql`). Kept on the row, they moved with nearly
 * every batch that named the party, and rewriting its row for that (an update, its WAL and an
 * index entry per touched party) was a fifth of the warehouse sink's statement time.
 *
 * The column lists are spelled out here rather than imported: a migration is a snapshot.
 */
const TABLES: ReadonlyArray<readonly [table: string, id: string]> = [
  ['enforcement_case', 'case_id'],
  ['hotline_ticket', 'ticket_id'],
  ['supervision_record', 'record_id'],
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table core.party drop column first_seen, drop column last_seen');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table core.party add column if not exists first_seen timestamptz not null default now(), add column if not exists last_seen timestamptz not null default now()');
  const seen = TABLES.map(
    ([table, id]) => `select r.party_key, h.recorded_at from core.${table} r join core.${table}_history h on h.${id} = r.${id} where r.party_key is not null`,
  ).join(' union all ');
  await knex.raw(`
    update core.party p set first_seen = s.first_seen, last_seen = s.last_seen
    from (select party_key, min(recorded_at) as first_seen, max(recorded_at) as last_seen from (${seen}) x group by party_key) s
    where s.party_key = p.party_key`);
}
