import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createApiKey } from '../../hub/api/auth';
import { createDb } from '../../lib/db';
import { migrateLatest } from '../../sql/migrate';
import { CLI } from '../support/cli';
import { eventually, freePort } from '../support/helpers';
import { testConfig } from '../support/stack';

const config = testConfig();
const ID_NUMBER = '11010519491231002X';
const PHONE = '13812345678';

/**
 * "No clear ID or phone number appears in the hub's logs": the hub as `liandong serve` runs it,
 * at debug level, sent ID and phone numbers in paths, queries and bodies, answered, refused and
 * failing — then its whole output and its audit rows are searched for them. In a database of its
 * own, because the failing case takes ops.api_keys away for a moment.
 */
describe('the hub keeps personal data out of its logs and its audit log', () => {
  const dbName = `liandong_auditlog_${crypto.randomBytes(4).toString('hex')}`;
  let server: Knex;
  let db: Knex;
  let child: ChildProcess;
  let output = '';
  let base = '';
  let key = '';

  const call = (path: string, init: RequestInit = {}) => fetch(base + path, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) } });

  beforeAll(async () => {
    server = createDb(config, { database: 'postgres', poolMax: 1 });
    await server.raw(`create database ${dbName}`);
    db = createDb(config, { database: dbName, poolMax: 2 });
    await migrateLatest(db);
    key = (await createApiKey(db, { agencyCode: 'pii-test', agencyName: '个人信息测试单位', scopes: ['admin'] })).key;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // No key cache, so that the moment without a keys table reaches the database.
    child = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, LIANDONG__DATABASE__DATABASE: dbName, LIANDONG__HUB__PORT: String(port), LIANDONG__HUB__KEY_CACHE_MS: '0', LIANDONG_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
    await eventually(() => output.includes('hub listening on') || child.exitCode !== null, 120_000, 'the hub to listen');
    if (!output.includes('hub listening on')) throw new Error(`liandong serve did not start:\n${output}`);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await db?.destroy();
    await server.raw(`drop database if exists ${dbName} with (force)`);
    await server.destroy();
  });

  it('answers, refuses and fails requests carrying ID and phone numbers', async () => {
    expect((await call(`/v1/no-such-route/${ID_NUMBER}?phone=${PHONE}`)).status).toBe(404);
    expect((await call(`/v1/audit?agency=${ID_NUMBER}&route=${PHONE}`)).status).toBe(200);
    expect((await call(`/v1/audit?key_id=${ID_NUMBER}`)).status).toBe(400);
    expect((await call(`/v1/audit?limit=${PHONE}`)).status).toBe(400);
    const badJson = await call('/v1/audit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"id_number": "${ID_NUMBER}", "phone": ${PHONE}` });
    expect(badJson.status).toBe(400);
    expect(await badJson.text()).not.toContain(ID_NUMBER);
    expect((await fetch(`${base}/v1/parties/${ID_NUMBER}`)).status).toBe(401);
    // The database loses the keys table for a moment: authentication fails with a 500, which is logged.
    await db.raw('alter table ops.api_keys rename to api_keys_away');
    let failed: Response;
    try {
      failed = await call(`/v1/audit?agency=${ID_NUMBER}`, { headers: { 'x-request-id': 'pii-test-500' } });
    } finally {
      await db.raw('alter table ops.api_keys_away rename to api_keys');
    }
    expect(failed.status).toBe(500);
    const body = await failed.json();
    expect(body).toEqual({ code: 'INTERNAL', message: expect.any(String), details: { request_id: 'pii-test-500' } });
    await eventually(() => output.includes('"request_id":"pii-test-500"'), 30_000, 'the failure in the log');
  });

  it('has none of them in its output or its audit rows once it has stopped', async () => {
    child.kill('SIGTERM');
    await eventually(() => child.exitCode !== null || child.signalCode !== null, 60_000, 'the hub to stop');
    expect(child.exitCode).toBe(0);
    expect(output).toContain('request failed');
    expect(output).not.toContain(ID_NUMBER);
    expect(output).not.toContain(PHONE);

    // Every request was written when the hub stopped, and none holds the numbers.
    const rows = await db('ops.audit_log').orderBy('seq');
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(rows.find((r: { request_id: string }) => r.request_id === 'pii-test-500')).toMatchObject({ status: 500, outcome: 'INTERNAL', route: '/v1/audit' });
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(ID_NUMBER);
    expect(stored).not.toContain(PHONE);
  });
});
