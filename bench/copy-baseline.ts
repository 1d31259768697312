import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyColumns } from '../pipelines/warehouse/copy-text';
import { CORE_TABLES, CoreTable } from '../pipelines/warehouse/core-rows';
import type { Dataset } from '../schemas/catalog';

/**
 * The floor the sink is compared with: the same rows (the core tables' columns of the same
 * canonical records, in COPY text written by `copyColumns`) streamed with `COPY … FROM STDIN`
 * into plain, logged, unindexed tables that have the core tables' columns. No history, no
 * merge, no links, no offsets: what PostgreSQL on this machine can ingest at best.
 */

const SCHEMA = 'bench_copy';
const ROWS_PER_CHUNK = 500;

function* copyChunks(table: CoreTable, records: ReadonlyArray<Record<string, unknown>>): Generator<string> {
  for (let i = 0; i < records.length; i += ROWS_PER_CHUNK) {
    let chunk = '';
    for (const record of records.slice(i, i + ROWS_PER_CHUNK)) chunk += `${copyColumns(table, record)}\n`;
    yield chunk;
  }
}

export interface CopyResult {
  rows: number;
  seconds: number;
  perTable: Array<{ table: string; rows: number; seconds: number }>;
}

/**
 * Creates the copy tables, then times row building, formatting and COPY, table by table,
 * each COPY in its own (autocommit) transaction.
 */
export async function copyBaseline(clientConfig: pg.ClientConfig, byDataset: ReadonlyMap<Dataset, ReadonlyArray<Record<string, unknown>>>): Promise<CopyResult> {
  const client = new pg.Client(clientConfig);
  await client.connect();
  try {
    await client.query(`create schema if not exists ${SCHEMA}`);
    for (const table of Object.values(CORE_TABLES)) {
      await client.query(`create table ${SCHEMA}.${table.table} (${table.columns.map(([name, type]) => `"${name}" ${type}`).join(', ')})`);
    }
    const result: CopyResult = { rows: 0, seconds: 0, perTable: [] };
    for (const [dataset, records] of byDataset) {
      const table = CORE_TABLES[dataset];
      const sql = `copy ${SCHEMA}.${table.table} (${table.columns.map(([name]) => `"${name}"`).join(', ')}) from stdin`;
      const t0 = process.hrtime.bigint();
      await pipeline(Readable.from(copyChunks(table, records)), client.query(copyFrom(sql)));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const [{ count }] = (await client.query<{ count: number }>(`select count(*)::int as count from ${SCHEMA}.${table.table}`)).rows;
      if (count !== records.length) throw new Error(`COPY into ${SCHEMA}.${table.table}: ${count} rows, expected ${records.length}`);
      result.perTable.push({ table: table.table, rows: records.length, seconds });
      result.rows += records.length;
      result.seconds += seconds;
    }
    return result;
  } finally {
    await client.end();
  }
}
