import knex from 'knex';
import { loadConfig } from './lib/config';
import { mariadbConnection } from './hub/stack/service-mariadb';
import { createDb } from './lib/db';
import { seedProcuratorateDb, updateSome } from './connectors/simulators/procuratorate-db';

async function main() {
  const config = loadConfig({ file: '/work/main/liandong.yaml' });
  const my = knex({ client: 'mysql2', connection: { ...mariadbConnection(config), timezone: 'Z' }, pool: { min: 0, max: 2 } });
  const pg = createDb(config, { poolMax: 2 });
  for (const [name, db] of [['mariadb', my], ['pg', pg]] as const) {
    const table = `perf_${Date.now()}`;
    const t0 = Date.now();
    const r = await seedProcuratorateDb(db, { seed: 1, count: 100_000, table });
    console.log(name, 'seed 100k', Date.now() - t0, 'ms', r);
    const t1 = Date.now();
    const u = await updateSome(db, 1000, { table });
    console.log(name, 'update 1000', Date.now() - t1, 'ms', u.updatedAt, u.ids.slice(0, 5));
    const sample = await db(table).orderBy('id').first();
    console.log(sample);
    await db.schema.dropTable(table);
  }
  await my.destroy(); await pg.destroy();
}
main().catch((e) => { console.error(e); process.exit(1); });
