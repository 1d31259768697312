import type { Knex } from 'knex';

/**
 * The credit-code indexes duplicate the party-key ones: a record's `party_key` is
 * `'USCC:' || <credit code>` whenever it has a code, so a lookup by credit code is a lookup by
 * party key. Every current row the warehouse sink writes paid for both; the records endpoint
 * now filters by party key.
 */
const INDEXES: ReadonlyArray<readonly [index: string, table: string, column: string]> = [
  ['enforcement_case_party_uscc_idx', 'enforcement_case', 'party_uscc'],
  ['hotline_ticket_subject_uscc_idx', 'hotline_ticket', 'subject_uscc'],
  ['supervision_record_party_uscc_idx', 'supervision_record', 'party_uscc'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [index] of INDEXES) await knex.raw(`drop index if exists core.${index}`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [index, table, column] of INDEXES) await knex.raw(`create index if not exists ${index} on core.${table} (${column})`);
}
