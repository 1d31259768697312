import { startTestHub, TestHub } from '../support/api';

describe('the API documentation', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('serves /v1/openapi.json without a key, listing the audit route and the docs page', async () => {
    const res = await hub.call('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.paths['/v1/audit'].get.tags).toEqual(['audit']);
    expect(res.body.paths['/v1/docs'].get.responses['200'].content).toHaveProperty('text/html');
    expect(res.body.paths['/v1/docs'].get.security).toBeUndefined();
  });

  it('resolves every $ref of the document within the document (Swagger UI resolves them from its root)', async () => {
    const doc = (await hub.call('GET', '/v1/openapi.json')).body;
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' && typeof x === 'string' ? refs.push(x) : walk(x);
    };
    walk(doc);
    expect(refs).toContain('#/components/schemas/Error');
    expect(refs).toContain('#/components/schemas/AuditPage');
    for (const ref of refs) {
      expect(ref.startsWith('#/')).toBe(true);
      const target = ref.slice(2).split('/').reduce<any>((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
      expect({ ref, resolved: target !== undefined }).toEqual({ ref, resolved: true });
    }
  });

  it('documents the error answers of every operation: 413 wherever there is a body, 401/403/429 wherever a key is needed', async () => {
    const doc = (await hub.call('GET', '/v1/openapi.json')).body;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        const codes = Object.keys(op.responses);
        if (op.requestBody) expect({ op: `${method} ${path}`, has413: codes.includes('413') }).toEqual({ op: `${method} ${path}`, has413: true });
        if (op.security) expect({ op: `${method} ${path}`, codes: codes.filter((c) => ['401', '403', '429'].includes(c)) }).toEqual({ op: `${method} ${path}`, codes: ['401', '403', '429'] });
      }
    }
  });

  it('serves a page in Chinese at /v1/docs without a key, with no inline script', async () => {
    const res = await hub.call('GET', '/v1/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<html lang="zh-CN">');
    expect(res.text).toMatch(/<title>[^<]*接口文档[^<]*<\/title>/);
    // Every script is a file the CSP (script-src 'self') allows; none is written into the page.
    const scripts = [...res.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/v1\/docs\/assets\/[^"]+"/);
      expect(body.trim()).toBe('');
    }
    expect(res.text).not.toMatch(/\son[a-z]+=/i);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    // A hub reached over plain HTTP must still load the page's own assets over plain HTTP.
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('serves every script, stylesheet and icon the page names, from the hub itself', async () => {
    const page = (await hub.call('GET', '/v1/docs')).text;
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.every((r) => r.startsWith('/v1/'))).toBe(true);
    const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, png: /^image\/png/, json: /^application\/json/ };
    for (const ref of refs) {
      const res = await hub.call('GET', ref);
      expect({ ref, status: res.status }).toEqual({ ref, status: 200 });
      expect(res.headers.get('content-type')).toMatch(types[ref.split('.').pop()!]);
    }
  });

  it('starts Swagger UI from its own script, pointed at /v1/openapi.json', async () => {
    const res = await hub.call('GET', '/v1/docs/assets/init.js');
    expect(res.text).toContain("url: '/v1/openapi.json'");
    expect(res.text).toContain('SwaggerUIBundle(');
    // Swagger UI would otherwise send the document's address to validator.swagger.io.
    expect(res.text).toContain('validatorUrl: null');
    const bundle = await fetch(`${hub.base}/v1/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });

  it('serves no other file: unknown names and path tricks are 404', async () => {
    for (const name of ['index.html', 'package.json', '..%2Fpackage.json', 'swagger-ui-bundle.js.map', '%2E%2E%2F%2E%2E%2Fliandong.yaml']) {
      const res = await hub.call('GET', `/v1/docs/assets/${name}`);
      expect({ name, status: res.status }).toEqual({ name, status: 404 });
      expect(res.body.code).toBe('NOT_FOUND');
    }
  });
});
