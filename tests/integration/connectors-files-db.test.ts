import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import knex, { Knex } from 'knex';
import { runSource, RunnerDeps } from '../../connectors/runner';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { seedProcuratorateDb, updateSome } from '../../connectors/simulators/procuratorate-db';
import { mariadbConnection } from '../../hub/stack/service-mariadb';
import type { RawEnvelope } from '../../pipelines/raw-envelope';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { rawTopic } from '../../schemas/catalog';
import { connectorSource, useRunnerDeps } from '../support/connectors';
import { uniqueName } from '../support/helpers';
import { consumeAll } from '../support/pipeline';

const clients = useRunnerDeps('it-connectors-files');
const { config, kafka, registry } = clients;
let db: Knex;
let deps: RunnerDeps;
beforeAll(() => {
  db = clients.db();
  deps = clients.deps();
});

async function payloads(sourceId: string): Promise<Array<Record<string, unknown>>> {
  return (await consumeAll(kafka, registry, rawTopic(sourceId))).map((m) => JSON.parse((m.value as unknown as RawEnvelope).payload));
}

describe('file-drop connector', () => {
  it('ingests a GBK CSV and an XLSX workbook with Chinese headers, and sets a corrupt file aside with a report', async () => {
    const header = ['案件编号', '决定书文号', '当事人名称', '统一社会信用代码', '罚款金额（万元）', '处罚决定日期', '更新时间'];
    const rows = [
      ['JSJ-2025-900001', '酒市监罚〔2025〕901号', '酒泉祁连商贸有限公司', '91620902MA5726159J', '5', '2025年6月4日', '2025-06-05 10:00:00'],
      ['JSJ-2025-900002', '酒市监罚〔2025〕902号', '敦煌鸣沙酒店有限公司', '91620982MB0014808F', '0.8', '2025/6/6', '2025-06-07 10:00:00'],
    ];
    const { source, dir } = connectorSource('jq-amr-penalty', { kind: 'file-drop', config: { dir: '', id_field: '案件编号' } });
    const drop = path.join(dir, 'drop');
    fs.mkdirSync(drop);
    (source.connector!.config as Record<string, unknown>).dir = drop;
    fs.writeFileSync(path.join(drop, 'a-penalties-gbk.csv'), iconv.encode([header, rows[0]].map((r) => r.join(',')).join('\r\n'), 'gbk'));
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('处罚');
    sheet.addRow(header);
    sheet.addRow(rows[1]);
    await workbook.xlsx.writeFile(path.join(drop, 'b-penalties.xlsx'));
    fs.writeFileSync(path.join(drop, 'c-broken.xlsx'), 'this is not a workbook');
    await prepareTopicsAndSchemas(config, kafka, registry, [source.id]);

    const summary = await runSource(deps, source);
    expect(summary).toMatchObject({ status: 'succeeded', read: 2, produced: 2, failed: 1 });
    const landed = await payloads(source.id);
    expect(landed.map((p) => p.案件编号).sort()).toEqual(['JSJ-2025-900001', 'JSJ-2025-900002']);
    expect(landed.find((p) => p.案件编号 === 'JSJ-2025-900001')!.当事人名称).toBe('酒泉祁连商贸有限公司'); // GBK decoded
    expect(fs.readdirSync(path.join(drop, 'done')).sort()).toEqual(['a-penalties-gbk.csv', 'b-penalties.xlsx']);
    expect(fs.readdirSync(path.join(drop, 'failed')).sort()).toEqual(['c-broken.xlsx', 'c-broken.xlsx.report.json']);
    const report = JSON.parse(fs.readFileSync(path.join(drop, 'failed', 'c-broken.xlsx.report.json'), 'utf8'));
    expect(report.reason).toMatch(/not a readable XLSX workbook/);
    expect(fs.readdirSync(drop).filter((f) => f.includes('.'))).toEqual([]);
  });
});

describe('db-pull connector on PostgreSQL', () => {
  it('reads a table by keyset (updated_at, id), bursts and later corrections included, each row version once', async () => {
    const table = uniqueName('it_cases').replace(/-/g, '_');
    await db.schema.createTable(table, (t) => {
      t.bigInteger('id').primary();
      t.timestamp('updated_at', { useTz: false, precision: 3 }).notNullable();
      t.text('payload').notNullable();
      t.index(['updated_at', 'id']);
    });
    try {
      const sim = new AgencySimulator({ seed: 21, count: 2500 });
      const records = [...sim.records()];
      // Bursts: 250 rows share each timestamp, so batches of 400 split them.
      await db.batchInsert(table, records.map((r, i) => ({ id: i + 1, updated_at: `2025-06-${String(1 + Math.floor(i / 250)).padStart(2, '0')} 08:00:00`, payload: r.payload })), 500);
      const { source } = connectorSource('jq-procuratorate', {
        kind: 'db-pull',
        config: { client: 'pg', host: config.database.host, port: config.database.port, database: config.database.database, user: config.database.user, table, batch_size: 400 },
      });
      await prepareTopicsAndSchemas(config, kafka, registry, [source.id]);
      expect((await runSource(deps, source)).read).toBe(2500);
      await db(table).whereIn('id', [5, 900, 2500]).update({ updated_at: '2025-07-01 09:00:00.123' });
      const second = await runSource(deps, source);
      expect(second).toMatchObject({ status: 'succeeded', read: 3 });
      const landed = await consumeAll(kafka, registry, rawTopic(source.id));
      const keys = landed.map((m) => m.value as unknown as RawEnvelope).map((e) => `${e.record_key}@${JSON.parse(e.payload).updated_at}`);
      expect(new Set(keys).size).toBe(2503);
      expect(keys).toContain('900@2025-07-01 09:00:00.123');
    } finally {
      await db.schema.dropTableIfExists(table);
    }
  });
});

describe('db-pull connector on MariaDB', () => {
  it('pulls the procuratorate database by keyset, bursts and corrections included, each row version once', async () => {
    const maria = mariadbConnection(config);
    const agencyDb = knex({ client: 'mysql2', connection: { ...maria, timezone: 'Z' }, pool: { min: 0, max: 2 } });
    const table = uniqueName('it_supervision').replace(/-/g, '_');
    process.env.IT_MARIADB_PASSWORD = maria.password;
    try {
      const seeded = await seedProcuratorateDb(agencyDb, { seed: 51, count: 5000, table });
      expect(seeded.bursts).toBeLessThan(5000); // rows share timestamps
      const { source } = connectorSource('jq-procuratorate', {
        kind: 'db-pull',
        config: { client: 'mysql2', host: maria.host, port: maria.port, database: maria.database, user: maria.user, password_env: 'IT_MARIADB_PASSWORD', table, updated_at_column: 'updated_at', id_column: 'id', batch_size: 700 },
      });
      await prepareTopicsAndSchemas(config, kafka, registry, [source.id]);
      expect(await runSource(deps, source)).toMatchObject({ status: 'succeeded', read: 5000 });
      const corrected = await updateSome(agencyDb, 25, { table, seed: 52 });
      expect(await runSource(deps, source)).toMatchObject({ status: 'succeeded', read: 25 });

      const landed = (await consumeAll(kafka, registry, rawTopic(source.id))).map((m) => m.value as unknown as RawEnvelope);
      const versions = landed.map((e) => `${e.record_key}@${JSON.parse(e.payload).updated_at}`);
      expect(new Set(versions).size).toBe(5025);
      for (const id of corrected.ids) expect(versions).toContain(`${id}@${corrected.updatedAt}`);
      expect(JSON.parse(landed[0].payload)).toHaveProperty('监督类型'); // the export's Chinese columns, as stored
    } finally {
      delete process.env.IT_MARIADB_PASSWORD;
      await agencyDb.schema.dropTableIfExists(table);
      await agencyDb.destroy();
    }
  });
});
