import type { Knex } from 'knex';

/**
 * Supervision records that cite a case by its id (`related_case_ids`) are found through this
 * index when the case arrives after them, as the decision numbers already are.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index if not exists supervision_record_case_ids_idx on core.supervision_record using gin (related_case_ids)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists core.supervision_record_case_ids_idx');
}
