import { revokeApiKey } from '../../hub/api/auth';
import { startTestHub, TestHub } from '../support/api';
import { runCli } from '../support/cli';
import { uniqueName } from '../support/helpers';

/** The key id of a key in clear: `ld_<key_id>.<secret>`. */
const keyIdOf = (key: string) => key.slice(3, 19);

/** Every error body is exactly {code, message, details}, and nothing in it looks like a stack trace. */
function expectErrorBody(res: { body: any; text: string }, code: string): void {
  expect(Object.keys(res.body).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.code).toBe(code);
  expect(typeof res.body.message).toBe('string');
  expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|Error:/);
}

describe('exchange API: keys, scopes and refusals', () => {
  let hub: TestHub;

  beforeAll(async () => {
    // No key cache: a revoked key is refused on its next request.
    hub = await startTestHub((c) => ({ ...c, hub: { ...c.hub, key_cache_ms: 0 } }));
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('answers 401 UNAUTHENTICATED to a request without a key', async () => {
    const res = await hub.call('GET', '/v1/audit');
    expect(res.status).toBe(401);
    expectErrorBody(res, 'UNAUTHENTICATED');
  });

  it.each([
    ['a bearer token that is not a key', { authorization: 'Bearer not-a-key' }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
    ['another authorization scheme', { authorization: 'Basic bGQ6bGQ=' }],
    ['a malformed X-API-Key', { 'x-api-key': 'ld_zz.short' }],
  ])('answers 401 to %s', async (_what, headers) => {
    const res = await hub.call('GET', '/v1/audit', { headers });
    expect(res.status).toBe(401);
    expectErrorBody(res, 'UNAUTHENTICATED');
  });

  it('answers 401 to a well-formed key nobody created', async () => {
    const res = await hub.call('GET', '/v1/audit', { key: `ld_${'0'.repeat(16)}.${'A'.repeat(43)}` });
    expect(res.status).toBe(401);
    expectErrorBody(res, 'UNAUTHENTICATED');
  });

  it('answers 401 to a real key id with the wrong secret', async () => {
    const key = await hub.key(['admin']);
    const wrong = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect((await hub.call('GET', '/v1/audit?limit=1', { key })).status).toBe(200);
    const res = await hub.call('GET', '/v1/audit?limit=1', { key: wrong });
    expect(res.status).toBe(401);
    expectErrorBody(res, 'UNAUTHENTICATED');
  });

  it('accepts the key as X-API-Key as well as a bearer token', async () => {
    const key = await hub.key(['admin']);
    expect((await hub.call('GET', '/v1/audit?limit=1', { headers: { 'x-api-key': key } })).status).toBe(200);
  });

  it('answers 401 to a key once it is revoked', async () => {
    const key = await hub.key(['admin']);
    expect((await hub.call('GET', '/v1/audit?limit=1', { key })).status).toBe(200);
    expect(await revokeApiKey(hub.rt.db, keyIdOf(key))).toBe(true);
    const res = await hub.call('GET', '/v1/audit?limit=1', { key });
    expect(res.status).toBe(401);
    expectErrorBody(res, 'UNAUTHENTICATED');
    expect(res.body.details).toEqual({ key_id: keyIdOf(key) });
  });

  it('answers 403 SCOPE_MISSING, naming the scope, to a valid key without it', async () => {
    const key = await hub.key(['read:enforcement-case', 'ingest:*']);
    const res = await hub.call('GET', '/v1/audit', { key });
    expect(res.status).toBe(403);
    expectErrorBody(res, 'SCOPE_MISSING');
    expect(res.body.details).toEqual({ required: 'admin', granted: ['read:enforcement-case', 'ingest:*'] });
  });

  it('answers 404 NOT_FOUND in the same shape to a path no route serves', async () => {
    const res = await hub.call('GET', '/v1/no-such-thing');
    expect(res.status).toBe(404);
    expectErrorBody(res, 'NOT_FOUND');
  });

  it('answers 400 MALFORMED_JSON to a body that is not JSON', async () => {
    const key = await hub.key(['admin']);
    const res = await hub.call('POST', '/v1/audit', { key, rawBody: '{"records": [' });
    expect(res.status).toBe(400);
    expectErrorBody(res, 'MALFORMED_JSON');
  });

  it('sets the security headers on answers and refusals alike, and no X-Powered-By', async () => {
    for (const res of [await hub.call('GET', '/v1/openapi.json'), await hub.call('GET', '/v1/audit'), await hub.call('GET', '/v1/nope'), await hub.call('GET', '/healthz')]) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-request-id')).toMatch(/\S/);
    }
  });

  it('echoes a caller\'s X-Request-Id so a refused call can be found in the audit log', async () => {
    const res = await hub.call('GET', '/v1/audit', { headers: { 'x-request-id': 'caller-req-42' } });
    expect(res.headers.get('x-request-id')).toBe('caller-req-42');
  });
});

describe('liandong agency: keys made, listed and revoked from the command line', () => {
  let hub: TestHub;
  const code = uniqueName('cli-agency');

  beforeAll(async () => {
    hub = await startTestHub((c) => ({ ...c, hub: { ...c.hub, key_cache_ms: 0 } }));
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('adds a key, shows it once, lists it without its secret, and revokes it', async () => {
    const added = await runCli(['agency', 'add', code, '--name', '酒泉市生态环境局', '--scopes', 'admin, read:pii']);
    expect(added.stderr).toContain('shown once and never again');
    expect(added.status).toBe(0);
    // The key alone on stdout, for a script to capture.
    expect(added.stdout).toMatch(/^ld_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}\n$/);
    const key = added.stdout.trim();
    const keyId = keyIdOf(key);
    expect((await hub.call('GET', '/v1/audit?limit=1', { key })).status).toBe(200);

    const listed = await runCli(['agency', 'list', '--agency', code]);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(keyId);
    expect(listed.stdout).toContain('admin,read:pii');
    expect(listed.stdout).toContain('酒泉市生态环境局');
    expect(listed.stdout).not.toContain(key.slice(20));

    const revoked = await runCli(['agency', 'revoke', keyId]);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toContain(`key ${keyId} revoked`);
    expect((await hub.call('GET', '/v1/audit?limit=1', { key })).status).toBe(401);

    const again = await runCli(['agency', 'revoke', keyId]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('error [KEY_NOT_FOUND]');
    expect((await runCli(['agency', 'list', '--agency', code])).stdout).toContain('no active keys');
    const all = await runCli(['agency', 'list', '--agency', code, '--all']);
    expect(all.stdout).toMatch(new RegExp(`${keyId}.*\\d{4}-\\d\\d-\\d\\dT`));
  });

  it('refuses an unknown scope and creates nothing', async () => {
    const res = await runCli(['agency', 'add', `${code}-bad`, '--name', '测试', '--scopes', 'read:everything']);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('error [BAD_SCOPE] unknown scope(s) read:everything');
    expect(res.stdout).toBe('');
    expect(await hub.rt.db('ops.api_keys').where({ agency_code: `${code}-bad` })).toEqual([]);
  });
});

describe('exchange API: body size limit', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub((c) => ({ ...c, hub: { ...c.hub, body_limit_bytes: 2048 } }));
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('answers 413 PAYLOAD_TOO_LARGE, with the limit, to a body over it', async () => {
    const key = await hub.key(['admin']);
    const res = await hub.call('POST', '/v1/audit', { key, body: { filler: 'x'.repeat(4096) } });
    expect(res.status).toBe(413);
    expectErrorBody(res, 'PAYLOAD_TOO_LARGE');
    expect(res.body.details).toEqual({ limit: 2048 });
  });

  it('reads a body under the limit', async () => {
    const key = await hub.key(['admin']);
    // Under the limit the body is read; the path then has no POST route, hence 404, not 413.
    const res = await hub.call('POST', '/v1/audit', { key, body: { filler: 'x'.repeat(1000) } });
    expect(res.status).toBe(404);
  });
});

describe('exchange API: rate limit per key', () => {
  let hub: TestHub;

  beforeAll(async () => {
    // Three requests, then one more every 100 s: the fourth is refused within any test's run time.
    hub = await startTestHub((c) => ({ ...c, hub: { ...c.hub, rate_limit: { per_second: 0.01, burst: 3 } } }));
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('answers 429 RATE_LIMITED with Retry-After once a key has used its burst, and only to that key', async () => {
    const busy = await hub.key(['admin']);
    const other = await hub.key(['admin']);
    for (let i = 0; i < 3; i++) expect((await hub.call('GET', '/v1/audit?limit=1', { key: busy })).status).toBe(200);
    const res = await hub.call('GET', '/v1/audit?limit=1', { key: busy });
    expect(res.status).toBe(429);
    expectErrorBody(res, 'RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.body.details.retry_after_s).toBe(Number(res.headers.get('retry-after')));
    expect((await hub.call('GET', '/v1/audit?limit=1', { key: other })).status).toBe(200);
  });

  it('does not spend a key\'s tokens on requests it fails to authenticate', async () => {
    const key = await hub.key(['admin']);
    for (let i = 0; i < 5; i++) expect((await hub.call('GET', '/v1/audit?limit=1', { key: key.slice(0, -2) })).status).toBe(401);
    expect((await hub.call('GET', '/v1/audit?limit=1', { key })).status).toBe(200);
  });
});
