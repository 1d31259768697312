import { verifyAuditChain } from '../../hub/api/audit-chain';
import { startTestHub, TestHub } from '../support/api';
import { eventually, uniqueName } from '../support/helpers';

const keyIdOf = (key: string) => key.slice(3, 19);
const ID_NUMBER = '11010519491231002X';

interface Row {
  seq: string;
  request_id: string;
  key_id: string | null;
  agency_code: string | null;
  method: string;
  route: string;
  dataset: string | null;
  record_count: number;
  status: number;
  outcome: string;
}

describe('exchange API: the audit log', () => {
  let hub: TestHub;
  const run = uniqueName('audit');
  const agency = { code: run, name: `审计测试单位 ${run}` };
  let admin: string;
  let reader: string;
  const started = new Date(Date.now() - 1000).toISOString();
  const rid = (n: string) => `${run}-${n}`;

  /** The audit rows of this test's requests, once all of them are written. */
  async function rowsFor(ids: string[]): Promise<Map<string, Row>> {
    const rows = await eventually(async () => {
      const found: Row[] = await hub.rt.db('ops.audit_log').whereIn('request_id', ids);
      return found.length === ids.length ? found : undefined;
    }, 30_000, `audit rows of ${ids.join(', ')}`);
    return new Map(rows.map((r) => [r.request_id, r]));
  }

  beforeAll(async () => {
    hub = await startTestHub();
    admin = await hub.key(['admin'], agency);
    reader = await hub.key(['read:enforcement-case'], agency);
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('records every request when it finishes — answered, refused or unmatched — by route template, never by path', async () => {
    const calls: Array<[string, string, string, { key?: string }]> = [
      [rid('ok'), 'GET', '/v1/audit?limit=3', { key: admin }],
      [rid('401'), 'GET', '/v1/audit', {}],
      [rid('403'), 'GET', '/v1/audit', { key: reader }],
      [rid('400'), 'GET', '/v1/audit?limit=0', { key: admin }],
      [rid('404'), 'GET', `/v1/no-such-route/${ID_NUMBER}?phone=13812345678`, { key: admin }],
      [rid('public'), 'GET', '/v1/openapi.json', {}],
      [rid('health'), 'GET', '/healthz', {}],
    ];
    const answered = new Map<string, number>();
    for (const [id, method, path, opts] of calls) {
      const res = await hub.call(method, path, { ...opts, headers: { 'x-request-id': id } });
      answered.set(id, res.status);
      if (id === rid('ok')) expect(res.body.entries.length).toBeGreaterThan(0);
    }
    const rows = await rowsFor(calls.map(([id]) => id));
    const pick = (id: string) => {
      const r = rows.get(id)!;
      return { key_id: r.key_id, agency_code: r.agency_code, method: r.method, route: r.route, status: r.status, outcome: r.outcome };
    };
    expect(pick(rid('ok'))).toEqual({ key_id: keyIdOf(admin), agency_code: run, method: 'GET', route: '/v1/audit', status: 200, outcome: 'OK' });
    expect(rows.get(rid('ok'))!.record_count).toBe(3);
    expect(pick(rid('401'))).toEqual({ key_id: null, agency_code: null, method: 'GET', route: '/v1/audit', status: 401, outcome: 'UNAUTHENTICATED' });
    expect(pick(rid('403'))).toEqual({ key_id: keyIdOf(reader), agency_code: run, method: 'GET', route: '/v1/audit', status: 403, outcome: 'SCOPE_MISSING' });
    expect(pick(rid('400'))).toEqual({ key_id: keyIdOf(admin), agency_code: run, method: 'GET', route: '/v1/audit', status: 400, outcome: 'VALIDATION_FAILED' });
    expect(pick(rid('404'))).toMatchObject({ route: '(no route)', status: 404, outcome: 'NOT_FOUND' });
    expect(pick(rid('public'))).toEqual({ key_id: null, agency_code: null, method: 'GET', route: '/v1/openapi.json', status: 200, outcome: 'OK' });
    expect(pick(rid('health'))).toMatchObject({ route: '/healthz', status: 200, outcome: 'OK' });
    for (const [id, status] of answered) expect(rows.get(id)!.status).toBe(status);
    const stored = JSON.stringify([...rows.values()]);
    expect(stored).not.toContain(ID_NUMBER);
    expect(stored).not.toContain('13812345678');
  });

  it('notes when a key was last used', async () => {
    const key = await hub.key(['admin'], agency);
    await hub.call('GET', '/v1/audit?limit=1', { key });
    const used = await eventually(async () => (await hub.rt.db('ops.api_keys').where({ key_id: keyIdOf(key) }).first())?.last_used_at ?? undefined);
    expect(used).toBeInstanceOf(Date);
  });

  describe('GET /v1/audit', () => {
    const ids = Array.from({ length: 5 }, (_, i) => rid(`page-${i}`));

    beforeAll(async () => {
      for (const id of ids) await hub.call('GET', '/v1/audit?limit=1', { key: reader, headers: { 'x-request-id': id } });
      await rowsFor(ids);
    });

    const get = (query: string, key = admin) => hub.call('GET', `/v1/audit?${query}`, { key });

    it('filters by agency, key, route, outcome and time', async () => {
      const byKey = await get(`key_id=${keyIdOf(reader)}&limit=1000`);
      expect(byKey.status).toBe(200);
      expect(byKey.body.entries.length).toBeGreaterThanOrEqual(ids.length);
      expect(new Set(byKey.body.entries.map((e: Row) => e.key_id))).toEqual(new Set([keyIdOf(reader)]));

      const byAgency = await get(`agency=${run}&limit=1000`);
      expect(new Set(byAgency.body.entries.map((e: Row) => e.agency_code))).toEqual(new Set([run]));
      expect(byAgency.body.entries.map((e: Row) => e.key_id)).toEqual(expect.arrayContaining([keyIdOf(reader), keyIdOf(admin)]));

      const refused = await get(`agency=${run}&route=${encodeURIComponent('/v1/audit')}&outcome=SCOPE_MISSING&limit=1000`);
      expect(refused.body.entries.length).toBe(ids.length + 1);
      expect(refused.body.entries.every((e: Row) => e.status === 403 && e.route === '/v1/audit')).toBe(true);

      // The reader's rows: the admin's own queries here add rows to the agency as the test runs.
      const inWindow = await get(`key_id=${keyIdOf(reader)}&from=${encodeURIComponent(started)}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&limit=1000`);
      expect(inWindow.body.entries.length).toBe(byKey.body.entries.length);
      const later = await get(`agency=${run}&from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      expect(later.body).toEqual({ entries: [], next_cursor: null });
      const before = await get(`agency=${run}&to=${encodeURIComponent('2020-01-01T00:00:00+08:00')}`);
      expect(before.body.entries).toEqual([]);
    });

    it('pages by seq with a cursor, newest first by default, without gaps or repeats', async () => {
      // The reader's rows, which stay put while the admin's paging queries are being recorded.
      const all = (await get(`key_id=${keyIdOf(reader)}&limit=1000`)).body.entries.map((e: Row) => e.seq);
      expect(all.length).toBeGreaterThan(4);
      const seqs = all.map(BigInt);
      expect(seqs.every((s: bigint, i: number) => i === 0 || s < seqs[i - 1])).toBe(true);

      for (const order of ['asc', 'desc'] as const) {
        const paged: string[] = [];
        let cursor: string | null = null;
        do {
          const page: { body: { entries: Row[]; next_cursor: string | null } } = await get(`key_id=${keyIdOf(reader)}&limit=2&order=${order}${cursor ? `&cursor=${cursor}` : ''}`);
          expect(page.body.entries.length).toBeLessThanOrEqual(2);
          paged.push(...page.body.entries.map((e) => e.seq));
          cursor = page.body.next_cursor;
        } while (cursor);
        expect(paged).toEqual(order === 'desc' ? all : [...all].reverse());
      }
    });

    it('returns each row with its chain hashes', async () => {
      const [row] = (await get(`key_id=${keyIdOf(reader)}&limit=1`)).body.entries;
      expect(row).toEqual({
        seq: expect.stringMatching(/^\d+$/),
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
        request_id: expect.any(String),
        key_id: keyIdOf(reader),
        agency_code: run,
        method: 'GET',
        route: '/v1/audit',
        dataset: null,
        record_count: 0,
        status: 403,
        outcome: 'SCOPE_MISSING',
        prev_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    });

    it.each([
      ['a limit of 0', 'limit=0', 'limit'],
      ['a limit over 1000', 'limit=1001', 'limit'],
      ['a limit that is not a number', 'limit=ten', 'limit'],
      ['a time without an offset', 'from=2026-01-01T00:00:00', 'from'],
      ['a time that is not a time', 'to=yesterday', 'to'],
      ['from after to', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['a negative cursor', 'cursor=-1', 'cursor'],
      ['a key id that is not one', 'key_id=xyz', 'key_id'],
      ['an unknown order', 'order=random', 'order'],
      ['an unknown parameter', 'agnecy=x', ''],
      ['a repeated parameter', 'agency=a&agency=b', 'agency'],
    ])('answers 400 VALIDATION_FAILED to %s, naming the parameter', async (_what, query, path) => {
      const res = await get(query);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.in).toBe('query');
      expect(res.body.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    });

    it('answers 401 without a key and 403 to a key without admin', async () => {
      expect((await hub.call('GET', '/v1/audit')).status).toBe(401);
      const res = await get('limit=1', reader);
      expect(res.status).toBe(403);
      expect(res.body.details.required).toBe('admin');
    });

    it('is in the OpenAPI document with its parameters, scope and error answers', async () => {
      const doc = (await hub.call('GET', '/v1/openapi.json')).body;
      const op = doc.paths['/v1/audit'].get;
      expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['agency', 'cursor', 'from', 'key_id', 'limit', 'order', 'outcome', 'route', 'to']);
      expect(op.description).toContain('admin');
      expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '403', '429', '500']);
      expect(op.security).toEqual([{ apiKey: [] }]);
    });
  });

  it('keeps one unbroken chain while two hubs append at once and a verification runs', async () => {
    const second = await startTestHub();
    try {
      const key = await second.key(['admin'], agency);
      const ids: string[] = [];
      const burst = (h: TestHub, k: string, tag: string) =>
        Promise.all(Array.from({ length: 40 }, (_, i) => {
          const id = rid(`${tag}-${i}`);
          ids.push(id);
          return h.call('GET', '/v1/audit?limit=1', { key: k, headers: { 'x-request-id': id } });
        }));
      const [, , during] = await Promise.all([burst(hub, admin, 'one'), burst(second, key, 'two'), verifyAuditChain(hub.rt.db)]);
      expect(during).toMatchObject({ ok: true });
      const rows = await rowsFor(ids);
      expect(new Set([...rows.values()].map((r) => r.seq)).size).toBe(ids.length);
      const after = await verifyAuditChain(hub.rt.db);
      expect(after).toMatchObject({ ok: true });
      if (after.ok) expect(BigInt(after.head!.seq)).toBeGreaterThanOrEqual(BigInt([...rows.values()].map((r) => r.seq).sort((a, b) => Number(BigInt(a) - BigInt(b))).pop()!));
    } finally {
      await second.close();
    }
  });

  it('writes what is still queued when the hub stops', async () => {
    const other = await startTestHub();
    const key = await other.key(['admin'], agency);
    const id = rid('last-before-stop');
    await other.call('GET', '/v1/audit?limit=1', { key, headers: { 'x-request-id': id } });
    await other.close();
    const row = await hub.rt.db('ops.audit_log').where({ request_id: id }).first();
    expect(row).toMatchObject({ status: 200, key_id: keyIdOf(key) });
  });
});
