import type { Knex } from 'knex';

/**
 * The four schemas of the warehouse: `core` (current state and history), `link`
 * (cross-source links), `mart` (analyst views) and `ops` (offsets, runs, dead letters,
 * audit). Their tables arrive with the issues that own them.
 */
export const SCHEMAS = ['core', 'link', 'mart', 'ops'] as const;

export async function up(knex: Knex): Promise<void> {
  for (const schema of SCHEMAS) await knex.raw('create schema if not exists ??', [schema]);
  await knex.raw(`comment on schema core is 'Current state and full history of canonical records, and resolved parties'`);
  await knex.raw(`comment on schema link is 'Links between enforcement cases, hotline tickets and supervision records'`);
  await knex.raw(`comment on schema mart is 'Analyst views (personal data masked)'`);
  await knex.raw(`comment on schema ops is 'Operational state: consumer offsets, connector runs, dead letters, audit'`);
}

export async function down(knex: Knex): Promise<void> {
  // `ops` stays: it holds knex's own migration bookkeeping.
  for (const schema of ['mart', 'link', 'core']) await knex.raw('drop schema if exists ?? cascade', [schema]);
}
