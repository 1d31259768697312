import type { Knex } from 'knex';

/**
 * The GIN indexes on the supervision records' cited ids are searched once per record the
 * warehouse sink touches. With GIN's fast update on, new entries wait in a pending list that
 * every search reads from start to end: with a few thousand pending entries a lookup took
 * ~0.2 ms instead of a few µs. Supervision records are few next to the searches they answer,
 * so entries go straight into the index.
 */
const INDEXES = ['supervision_record_decision_nos_idx', 'supervision_record_ticket_ids_idx', 'supervision_record_case_ids_idx'];

export async function up(knex: Knex): Promise<void> {
  for (const index of INDEXES) {
    await knex.raw(`alter index core.${index} set (fastupdate = off)`);
    // Entries already pending stay there until flushed.
    await knex.raw(`select gin_clean_pending_list('core.${index}'::regclass)`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const index of INDEXES) await knex.raw(`alter index core.${index} reset (fastupdate)`);
}
