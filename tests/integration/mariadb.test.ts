import knex, { Knex } from 'knex';
import { createConnection } from 'mysql2/promise';
import { procuratorateRows, seedProcuratorateDb, updateSome } from '../../connectors/simulators/procuratorate-db';
import { mariadbConnection } from '../../hub/stack/service-mariadb';
import { createDb } from '../../lib/db';
import { uniqueName } from '../support/helpers';
import { testConfig } from '../support/stack';

const config = testConfig();
const ROWS = 5000;
const PAGE = 500;
const SEED = 11;

interface Cursor {
  updatedAt: Date;
  id: number;
}

interface Read {
  ids: number[];
  rows: Array<Record<string, unknown>>;
  cursor: Cursor | null;
}

/** Reads the table after `cursor` in (updated_at, id) order, a page at a time, as a puller would. */
async function readByKeyset(db: Knex, table: string, cursor: Cursor | null): Promise<Read> {
  const read: Read = { ids: [], rows: [], cursor };
  while (true) {
    const after = read.cursor;
    const page: Array<Record<string, unknown> & { id: number | string; updated_at: Date }> = await db(table)
      .select('*')
      .modify((q) => {
        if (after) q.where((w) => w.where('updated_at', '>', after.updatedAt).orWhere((o) => o.where('updated_at', '=', after.updatedAt).andWhere('id', '>', after.id)));
      })
      .orderBy([{ column: 'updated_at' }, { column: 'id' }])
      .limit(PAGE);
    for (const row of page) {
      read.ids.push(Number(row.id)); // pg returns bigint as text
      read.rows.push(row);
    }
    if (page.length < PAGE) return read;
    const last = page[page.length - 1];
    read.cursor = { updatedAt: last.updated_at, id: Number(last.id) };
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Each driver turns the zone-less updated_at into a Date its own way: mysql2 with
 * `timezone: 'Z'` reads it as UTC, pg as the process's local time.
 */
const engines: Array<{ engine: string; connect: () => Knex; wallTime: (d: Date) => string }> = [
  {
    engine: 'MariaDB',
    connect: () => knex({ client: 'mysql2', connection: { ...mariadbConnection(config), timezone: 'Z' }, pool: { min: 0, max: 2 } }),
    wallTime: (d) => d.toISOString().replace('T', ' ').slice(0, 23),
  },
  {
    engine: 'PostgreSQL',
    connect: () => createDb(config, { poolMax: 2 }),
    wallTime: (d) =>
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`,
  },
];

describe("the real stack's MariaDB", () => {
  it('is MariaDB 10.11 or newer, serving database agency to user liandong over TCP', async () => {
    const connection = await createConnection(mariadbConnection(config));
    try {
      const [rows] = await connection.query('select version() as version, database() as db, current_user() as user');
      const [row] = rows as Array<{ version: string; db: string; user: string }>;
      expect(row.version).toContain('MariaDB');
      const [major, minor] = row.version.split('.').map(Number);
      expect(major * 100 + minor).toBeGreaterThanOrEqual(1011);
      expect(row).toMatchObject({ db: 'agency', user: 'liandong@127.0.0.1' });
    } finally {
      await connection.end();
    }
  });

  it('refuses root over TCP: root logs in only through the socket', async () => {
    await expect(createConnection({ host: '127.0.0.1', port: config.stack.mariadb.port, user: 'root', password: '' })).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
  });
});

describe.each(engines)('the procuratorate database simulator on $engine', ({ connect, wallTime }) => {
  let db: Knex;
  const table = uniqueName('it_supervision').replace(/-/g, '_');
  let all: Read;

  beforeAll(async () => {
    db = connect();
    await seedProcuratorateDb(db, { seed: SEED, count: ROWS, table });
    all = await readByKeyset(db, table, null);
  });

  afterAll(async () => {
    await db.schema.dropTableIfExists(table);
    await db.destroy();
  });

  it('seeds 5,000 rows in bursts, several rows sharing one updated_at and one burst longer than a page', async () => {
    const bursts = await db(table).select('updated_at').count({ n: '*' }).groupBy('updated_at');
    const sizes = bursts.map((b) => Number(b.n));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(ROWS);
    expect(sizes.length).toBeLessThan(ROWS / 10);
    expect(Math.max(...sizes)).toBeGreaterThan(PAGE);
  });

  it('reads every row exactly once by keyset pages over (updated_at, id)', () => {
    expect(all.ids).toHaveLength(ROWS);
    expect(new Set(all.ids).size).toBe(ROWS);
    expect([...all.ids].sort((a, b) => a - b)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
    for (let i = 1; i < all.rows.length; i++) {
      const [a, b] = [all.rows[i - 1], all.rows[i]];
      const order = (a.updated_at as Date).getTime() - (b.updated_at as Date).getTime() || all.ids[i - 1] - all.ids[i];
      expect(order).toBeLessThan(0);
    }
  });

  it('stores the simulated rows as generated, Chinese column names and text intact', () => {
    const expected = [...procuratorateRows({ seed: SEED, count: 3, firstId: 1, after: Date.UTC(2025, 11, 1), year: 2025 })];
    const stored = all.rows.filter((r) => Number(r.id) <= 3).sort((a, b) => Number(a.id) - Number(b.id));
    expect(stored.map((r) => ({ ...r, id: Number(r.id), updated_at: wallTime(r.updated_at as Date) }))).toEqual(expected);
  });

  it('hands a reader resuming from its last cursor exactly the corrected rows', async () => {
    const corrected = await updateSome(db, 200, { table, seed: 3 });
    expect(corrected.ids).toHaveLength(200);
    const next = await readByKeyset(db, table, lastCursor(all));
    expect(next.ids.sort((a, b) => a - b)).toEqual(corrected.ids);
    expect(new Set(next.rows.map((r) => r.办理状态))).toEqual(new Set(['已办结']));
    expect(new Set(next.rows.map((r) => (r.updated_at as Date).getTime())).size).toBe(1);
  });
});

function lastCursor(read: Read): Cursor {
  const last = read.rows[read.rows.length - 1];
  return { updatedAt: last.updated_at as Date, id: Number(last.id) };
}
