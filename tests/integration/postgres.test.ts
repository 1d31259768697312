import type { Knex } from 'knex';
import { createDb, dbReady } from '../../lib/db';
import { migrateLatest, migrationStatus } from '../../sql/migrate';
import { SCHEMAS } from '../../sql/migrations/20261127000100-schemas';
import { uniqueName } from '../support/helpers';
import { testConfig } from '../support/stack';

const config = testConfig();

describe('the real stack: PostgreSQL', () => {
  let db: Knex;
  const table = uniqueName('it_probe').replace(/-/g, '_');

  beforeAll(async () => {
    db = createDb(config, { poolMax: 2 });
    await migrateLatest(db);
  });

  afterAll(async () => {
    await db.schema.withSchema('ops').dropTableIfExists(table);
    await db.destroy();
  });

  it('is PostgreSQL 15 or newer', async () => {
    const { version } = await dbReady(db);
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(15);
  });

  it('has the four warehouse schemas after migrate, and no pending migration', async () => {
    const rows = await db('information_schema.schemata').select('schema_name').whereIn('schema_name', [...SCHEMAS]);
    expect(rows.map((r: { schema_name: string }) => r.schema_name).sort()).toEqual([...SCHEMAS].sort());
    expect((await migrationStatus(db)).pending).toEqual([]);
  });

  it('writes a row and reads it back, Chinese text intact', async () => {
    await db.schema.withSchema('ops').createTable(table, (t) => {
      t.text('id').primary();
      t.text('name').notNullable();
      t.decimal('fine', 18, 2);
    });
    await db.withSchema('ops').table(table).insert({ id: 'a', name: '酒泉市生态环境局', fine: '123456789012.34' });
    const row = await db.withSchema('ops').table(table).where({ id: 'a' }).first();
    expect(row).toEqual({ id: 'a', name: '酒泉市生态环境局', fine: '123456789012.34' });
  });
});
