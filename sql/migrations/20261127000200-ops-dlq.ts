import type { Knex } from 'knex';

/**
 * ops.dlq: one row per raw message that could not be normalised, keyed by where the raw
 * message sits (topic, partition, offset) so that re-deliveries and retries update the
 * same row. It holds the errors and never the payload: the payload stays in the raw topic,
 * which is restricted, and `dlq retry` reads it from there.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').createTable('dlq', (t) => {
    t.bigIncrements('id').primary();
    t.text('raw_topic').notNullable();
    t.integer('raw_partition').notNullable();
    t.bigInteger('raw_offset').notNullable();
    t.text('source_id').notNullable();
    t.text('dataset').notNullable();
    t.text('record_key');
    t.jsonb('errors').notNullable();
    t.text('normaliser_version').notNullable();
    t.timestamp('first_failed_at', { useTz: true }).notNullable();
    t.timestamp('failed_at', { useTz: true }).notNullable();
    t.integer('attempts').notNullable().defaultTo(1);
    t.text('status').notNullable().defaultTo('open');
    t.text('resolved_record_id');
    t.timestamp('resolved_at', { useTz: true });
    t.unique(['raw_topic', 'raw_partition', 'raw_offset']);
    t.index(['source_id', 'status']);
  });
  await knex.raw(`alter table ops.dlq add constraint dlq_status_check check (status in ('open', 'resolved'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').dropTableIfExists('dlq');
}
