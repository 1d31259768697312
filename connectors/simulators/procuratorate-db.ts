import type { Knex } from 'knex';
import { AgencySimulator } from './agency-records';
import { mix } from './draws';
import { Random } from './random';

/**
 * The procuratorate's own database, as the db-pull connector meets it: a table of supervision
 * records with the columns of its export (config/sources/jq-procuratorate.yaml maps them),
 * plus `id` and `updated_at` — the keyset a puller pages by. Rows arrive in bursts that share
 * one `updated_at` to the millisecond (a nightly batch writes hundreds at once), and
 * `updateSome` corrects rows later with a newer one. The same code runs on PostgreSQL (knex
 * client `pg`) and MariaDB (`mysql2`).
 *
 * `updated_at` holds UTC wall-clock time (`datetime(3)` / `timestamp(3)` without zone), written
 * as text so neither driver shifts it; read it with mysql2's `timezone: 'Z'`.
 *
 * @example
 *   await seedProcuratorateDb(db, { seed: 7, count: 100_000 });
 *   const { ids } = await updateSome(db, 50);
 */
export const SUPERVISION_TABLE = 'supervision_records';

/** The export's columns, in order, with their width (null: long text). */
const COLUMNS = [
  ['案件编号', 40],
  ['检察院代码', 32],
  ['监督类型', 32],
  ['文书编号', 64],
  ['被建议单位代码', 32],
  ['关联处罚决定书', 255],
  ['关联12345工单', 255],
  ['当事人名称', 200],
  ['当事人信用代码', 32],
  ['当事人身份证号', 32],
  ['所属区县', 32],
  ['内容摘要', null],
  ['发出日期', 32],
  ['回复期限', 32],
  ['回复日期', 32],
  ['办理状态', 16],
  ['更新时间', 32],
] as const;

export type SupervisionColumn = (typeof COLUMNS)[number][0];

/** One row of the table; an empty field is NULL, as in the agency's database. */
export type SupervisionRow = { id: number; updated_at: string } & Record<SupervisionColumn, string | null>;

export interface SeedOptions {
  seed: number;
  /** Rows to add. */
  count: number;
  table?: string;
  /** Year of the simulated records (2025); an empty table's first burst comes in its December. */
  year?: number;
  /** Rows per INSERT statement. */
  chunkSize?: number;
}

export interface SeedResult {
  table: string;
  firstId: number;
  lastId: number;
  /** Distinct `updated_at` values among the new rows. */
  bursts: number;
  /** `updated_at` of the last new row, `YYYY-MM-DD HH:MM:SS.mmm` (UTC). */
  lastUpdatedAt: string;
}

/**
 * Creates the table when missing and appends `count` rows after those already there (ids and
 * `updated_at` continue from the table's maxima). Deterministic: the same seed on the same
 * starting table gives the same rows.
 */
export async function seedProcuratorateDb(knex: Knex, options: SeedOptions): Promise<SeedResult> {
  const table = options.table ?? SUPERVISION_TABLE;
  await createSupervisionTable(knex, table);
  const { maxId, latest } = await tableMaxima(knex, table);
  const year = options.year ?? 2025;
  // A first load comes after the year's documents were issued, as the table is filled from December.
  const rows = procuratorateRows({ seed: options.seed, count: options.count, firstId: maxId + 1, after: latest ?? Date.UTC(year, 11, 1), year });
  const chunkSize = options.chunkSize ?? 1000;
  const added = { lastId: maxId, lastUpdatedAt: latest === null ? '' : wallTime(latest), stamps: new Set<string>() };
  await knex.transaction(async (trx) => {
    let chunk: SupervisionRow[] = [];
    for (const row of rows) {
      chunk.push(row);
      added.stamps.add(row.updated_at);
      added.lastId = row.id;
      added.lastUpdatedAt = row.updated_at;
      if (chunk.length === chunkSize) {
        await trx(table).insert(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) await trx(table).insert(chunk);
  });
  return { table, firstId: maxId + 1, lastId: added.lastId, bursts: added.stamps.size, lastUpdatedAt: added.lastUpdatedAt };
}

export interface UpdateOptions {
  table?: string;
  /** Which rows are picked (1). */
  seed?: number;
}

/**
 * Corrects `n` existing rows (all of them when fewer): their status, reply date and 更新时间
 * change and they all get one new `updated_at`, later than any in the table — what a puller
 * must pick up again.
 */
export async function updateSome(knex: Knex, n: number, options: UpdateOptions = {}): Promise<{ ids: number[]; updatedAt: string }> {
  const table = options.table ?? SUPERVISION_TABLE;
  const { latest } = await tableMaxima(knex, table);
  const all = (await knex(table).select('id').orderBy('id')).map((r: { id: number | string }) => Number(r.id));
  const rng = new Random(mix(options.seed ?? 1, n));
  const picked = Math.min(n, all.length);
  // A partial Fisher–Yates shuffle: the first `picked` ids are a uniform sample.
  for (let i = 0; i < picked; i++) {
    const j = rng.int(i, all.length - 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const ids = all.slice(0, picked).sort((a, b) => a - b);
  if (ids.length === 0) return { ids, updatedAt: '' };
  const at = (latest ?? 0) + rng.int(1, 600) * 1000 + rng.int(0, 999);
  const updatedAt = wallTime(at);
  const day = new Date(at);
  const changes = {
    办理状态: '已办结',
    回复日期: `${day.getUTCFullYear()}年${day.getUTCMonth() + 1}月${day.getUTCDate()}日`,
    更新时间: updatedAt.slice(0, 19),
    updated_at: updatedAt,
  };
  await knex.transaction(async (trx) => {
    for (let i = 0; i < ids.length; i += 1000) await trx(table).whereIn('id', ids.slice(i, i + 1000)).update(changes);
  });
  return { ids, updatedAt };
}

/** The table and its keyset index, unless it exists. */
export async function createSupervisionTable(knex: Knex, table = SUPERVISION_TABLE): Promise<void> {
  if (await knex.schema.hasTable(table)) return;
  await knex.schema.createTable(table, (t) => {
    t.bigInteger('id').primary();
    for (const [name, width] of COLUMNS) {
      if (width === null) t.text(name);
      else t.string(name, width);
    }
    t.datetime('updated_at', { useTz: false, precision: 3 }).notNullable();
    t.index(['updated_at', 'id']);
  });
}

export interface RowsOptions {
  seed: number;
  count: number;
  firstId: number;
  /** Epoch milliseconds; the first burst comes after it. */
  after: number;
  year: number;
}

/** The rows themselves, with no database: pure and deterministic from the options. */
export function* procuratorateRows(options: RowsOptions): Generator<SupervisionRow> {
  const simulator = new AgencySimulator({ seed: options.seed, count: options.count, year: options.year });
  const bursts = new Random(mix(options.seed, 0x62757273));
  let at = options.after;
  let left = 0;
  for (let i = 0; i < options.count; i++) {
    if (left === 0) {
      // Mostly a handful of rows at a time; now and then a batch export of hundreds.
      left = bursts.chance(0.15) ? bursts.int(200, 1200) : bursts.int(1, 30);
      at += bursts.int(1, 7200) * 1000 + bursts.int(0, 999);
    }
    left--;
    const id = options.firstId + i;
    const body = JSON.parse(simulator.supervision().payload) as Record<string, unknown>;
    const updatedAt = wallTime(at);
    const row = { id, updated_at: updatedAt } as SupervisionRow;
    for (const [name] of COLUMNS) {
      const value = body[name];
      row[name] = value === undefined || value === null || value === '' ? null : String(value);
    }
    // Keyed by id so that rows appended later never repeat a case number.
    row.案件编号 = `JQJ-${options.year}-${String(id).padStart(6, '0')}`;
    row.更新时间 = updatedAt.slice(0, 19);
    yield row;
  }
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: what both engines take for a zone-less timestamp. */
export function wallTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

/**
 * The table's largest id and `updated_at` (epoch ms, read as text so no driver applies a
 * time zone), or 0 and null when it is empty.
 */
async function tableMaxima(knex: Knex, table: string): Promise<{ maxId: number; latest: number | null }> {
  const row = (await knex(table)
    .first(knex.raw('max(id) as max_id'), knex.raw('cast(max(updated_at) as char(32)) as latest'))) as { max_id: number | string | null; latest: string | null } | undefined;
  const text = row?.latest?.trim();
  const match = text ? /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(text) : null;
  const latest = match
    ? Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6], Number((match[7] ?? '0').padEnd(3, '0').slice(0, 3)))
    : null;
  return { maxId: Number(row?.max_id ?? 0), latest };
}
