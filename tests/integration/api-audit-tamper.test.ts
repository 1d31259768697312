import crypto from 'node:crypto';
import knex, { Knex } from 'knex';
import { auditHash, CANONICAL_TIME_SQL, verifyAuditChain } from '../../hub/api/audit-chain';
import { AuditWriter } from '../../hub/api/audit-writer';
import { createDb } from '../../lib/db';
import { createLogger } from '../../lib/log';
import { migrateLatest } from '../../sql/migrate';
import { startTestHub, TestHub } from '../support/api';
import { runCli } from '../support/cli';
import { eventually } from '../support/helpers';
import { testConfig } from '../support/stack';

const config = testConfig();

/**
 * Tampering leaves a broken chain behind, which would fail every later verification of the
 * shared database: these tests run in databases of their own, created here and dropped after.
 */
describe('the audit log resists and reveals tampering', () => {
  const dbName = `liandong_audit_${crypto.randomBytes(4).toString('hex')}`;
  const emptyName = `${dbName}_empty`;
  let server: Knex;
  let db: Knex;
  let hub: TestHub;
  let admin: string;
  const cli = (args: string[]) => runCli(args, { LIANDONG__DATABASE__DATABASE: dbName });

  async function asOwner(sql: string, bindings: unknown[] = []): Promise<void> {
    // The owner can switch the append-only trigger off; inside one transaction nobody sees it off.
    await db.transaction(async (trx) => {
      await trx.raw('alter table ops.audit_log disable trigger audit_log_append_only');
      await trx.raw(sql, bindings as Knex.RawBinding[]);
      await trx.raw('alter table ops.audit_log enable trigger audit_log_append_only');
    });
  }

  beforeAll(async () => {
    server = createDb(config, { database: 'postgres', poolMax: 1 });
    await server.raw(`create database ${dbName}`);
    await server.raw(`create database ${emptyName}`);
    db = createDb(config, { database: dbName, poolMax: 2 });
    await migrateLatest(db);
    hub = await startTestHub((c) => ({ ...c, database: { ...c.database, database: dbName } }));
    admin = await hub.key(['admin']);
    // More than 10 rows, so that seq order and text order differ (1, 10, 11, 2…).
    for (let i = 0; i < 12; i++) await hub.call('GET', '/v1/audit?limit=5', { key: admin });
    await hub.call('GET', '/v1/audit');
    await eventually(async () => Number((await db('ops.audit_log').count({ n: '*' }))[0].n) >= 13, 30_000, '13 audit rows');
  });

  afterAll(async () => {
    await hub?.close();
    await db?.destroy();
    await server.raw(`drop database if exists ${dbName} with (force)`);
    await server.raw(`drop database if exists ${emptyName} with (force)`);
    await server.destroy();
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit rows', async () => {
    await expect(db.raw('update ops.audit_log set record_count = 99 where seq = 2')).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('append-only (UPDATE refused)') });
    await expect(db.raw('delete from ops.audit_log where seq = 2')).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('append-only (DELETE refused)') });
    await expect(db.raw('truncate ops.audit_log')).rejects.toMatchObject({ code: '42501' });
    expect((await db('ops.audit_log').where({ seq: 2 }).first()).record_count).not.toBe(99);
  });

  it('lists the rows in seq order past 9, 99… (numeric, not text order)', async () => {
    const res = await hub.call('GET', '/v1/audit?order=asc&limit=1000', { key: admin });
    const seqs = res.body.entries.map((e: { seq: string }) => Number(e.seq));
    expect(seqs.slice(0, 12)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('verifies an untouched chain: `liandong audit verify` exits 0 and prints the head', async () => {
    const res = await cli(['audit', 'verify']);
    expect(res.stderr).not.toContain('broken');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/audit chain intact: \d+ row\(s\); head seq \d+, hash [0-9a-f]{64}/);
  });

  it('names the row whose record count was changed, then passes again once it is put back', async () => {
    const before = await db('ops.audit_log').where({ seq: 7 }).first();
    await asOwner('update ops.audit_log set record_count = record_count + 1 where seq = 7');
    const broken = await cli(['audit', 'verify']);
    expect(broken.status).toBe(6);
    expect(broken.stderr).toContain('audit chain broken at seq 7: hash does not match its fields');
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, seq: '7', reason: 'hash_mismatch', rows: 6 });

    await asOwner('update ops.audit_log set record_count = ? where seq = 7', [before.record_count]);
    expect((await cli(['audit', 'verify'])).status).toBe(0);
  });

  it('names the row after one that was changed and given a fresh hash', async () => {
    const row = await db('ops.audit_log').where({ seq: 4 }).first();
    const at = (await db.raw(`select ${CANONICAL_TIME_SQL} as at from ops.audit_log where seq = 4`)).rows[0].at;
    const forged = { at, requestId: row.request_id, keyId: row.key_id, agencyCode: row.agency_code, method: row.method, route: row.route, dataset: row.dataset, recordCount: row.record_count, status: 500, outcome: row.outcome };
    await asOwner('update ops.audit_log set status = 500, hash = ? where seq = 4', [auditHash(4n, row.prev_hash, forged)]);
    const res = await cli(['audit', 'verify']);
    expect(res.status).toBe(6);
    expect(res.stderr).toContain('audit chain broken at seq 5: prev_hash does not match the hash of seq 4');
    await asOwner('update ops.audit_log set status = ?, hash = ? where seq = 4', [row.status, row.hash]);
  });

  it('names the row after a deleted one', async () => {
    expect((await cli(['audit', 'verify'])).status).toBe(0);
    await asOwner('delete from ops.audit_log where seq = 9');
    const res = await cli(['audit', 'verify']);
    expect(res.status).toBe(6);
    expect(res.stderr).toContain('audit chain broken at seq 10: seq 10 follows seq 8; expected seq 9: rows are missing');
  });
});

describe('the audit writer never drops an entry', () => {
  const dbName = `liandong_auditw_${crypto.randomBytes(4).toString('hex')}`;
  let server: Knex;
  let db: Knex;

  const entry = (n: number) => ({
    at: new Date(), requestId: `w-${n}`, keyId: null, agencyCode: null, method: 'GET', route: '/v1/audit', dataset: null, recordCount: 0, status: 401, outcome: 'UNAUTHENTICATED',
  });

  beforeAll(async () => {
    server = createDb(config, { database: 'postgres', poolMax: 1 });
    await server.raw(`create database ${dbName}`);
    db = createDb(config, { database: dbName, poolMax: 2 });
  });

  afterAll(async () => {
    await db?.destroy();
    await server.raw(`drop database if exists ${dbName} with (force)`);
    await server.destroy();
  });

  it('retries a failed write until it succeeds, logging each failure', async () => {
    const lines: string[] = [];
    const writer = new AuditWriter(db, createLogger({}, { write: (l) => lines.push(l) }), { intervalMs: 10 });
    for (let i = 0; i < 3; i++) writer.append(entry(i));
    // The database has no audit table yet: every write fails until the migrations run.
    await eventually(() => lines.filter((l) => l.includes('audit log write failed; retrying')).length >= 2, 30_000, 'two failed writes');
    expect(writer.pending).toBe(3);
    await migrateLatest(db);
    await writer.flush();
    expect((await db('ops.audit_log').orderBy('seq')).map((r: { request_id: string }) => r.request_id)).toEqual(['w-0', 'w-1', 'w-2']);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: 3 });
    expect(lines.some((l) => l.includes('audit log writes resumed'))).toBe(true);
    await writer.stop();
  });

  it('writes the entries it could not store to the log when it stops, rather than dropping them', async () => {
    const lines: string[] = [];
    // A database that does not exist (knex's own warning about it is silenced: it is the point here).
    const nowhere = knex({
      client: 'pg',
      connection: { host: config.database.host, port: config.database.port, user: config.database.user, database: `${dbName}_missing` },
      pool: { min: 0, max: 1 },
      log: { warn: () => undefined },
    });
    const writer = new AuditWriter(nowhere, createLogger({}, { write: (l) => lines.push(l) }), { intervalMs: 10, stopTimeoutMs: 500 });
    try {
      for (let i = 0; i < 4; i++) writer.append(entry(100 + i));
      await writer.stop();
    } finally {
      await nowhere.destroy();
    }
    const kept = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'audit entry not written');
    expect(kept.map((l) => l.audit.requestId)).toEqual(['w-100', 'w-101', 'w-102', 'w-103']);
    expect(writer.pending).toBe(0);
  });
});
