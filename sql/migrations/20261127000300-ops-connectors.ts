import type { Knex } from 'knex';

/**
 * Connector bookkeeping: `ops.connector_state` holds each source's cursor, written only after
 * Kafka acknowledged the records read before it; `ops.connector_runs` records every run.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').createTable('connector_state', (t) => {
    t.text('source_id').primary();
    t.jsonb('state').notNullable();
    t.text('run_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.withSchema('ops').createTable('connector_runs', (t) => {
    t.text('run_id').primary();
    t.text('source_id').notNullable();
    t.text('trigger').notNullable();
    t.boolean('full_refresh').notNullable().defaultTo(false);
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.text('status').notNullable();
    t.bigInteger('records_read').notNullable().defaultTo(0);
    t.bigInteger('records_produced').notNullable().defaultTo(0);
    t.bigInteger('records_failed').notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(1);
    t.integer('duration_ms');
    t.text('error');
    t.index(['source_id', 'started_at']);
  });
  await knex.raw(`alter table ops.connector_runs add constraint connector_runs_status_check check (status in ('running', 'succeeded', 'failed'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').dropTableIfExists('connector_runs');
  await knex.schema.withSchema('ops').dropTableIfExists('connector_state');
}
