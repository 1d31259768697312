import type { Knex } from 'knex';

/**
 * No planner statistics on the columns that hold whole documents or free text: the stored
 * record of every history version, and the narrative fields of the current rows. No statement
 * filters or joins on them, so their statistics never inform a plan, yet ANALYZE sorted a
 * sample of them by jsonb or text comparison every time autovacuum analysed a growing table:
 * during a bulk load that cost the server as much CPU as the warehouse sink's COPY parsing.
 */
const COLUMNS: ReadonlyArray<readonly [table: string, column: string]> = [
  ['enforcement_case_history', 'record'],
  ['hotline_ticket_history', 'record'],
  ['supervision_record_history', 'record'],
  ['enforcement_case', 'violation_facts'],
  ['enforcement_case', 'measures'],
  ['hotline_ticket', 'content'],
  ['supervision_record', 'summary'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, column] of COLUMNS) await knex.raw(`alter table core.${table} alter column ${column} set statistics 0`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, column] of COLUMNS) await knex.raw(`alter table core.${table} alter column ${column} set statistics -1`);
}
