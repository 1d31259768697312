import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApiKey } from '../../hub/api/auth';
import { createRuntime, Runtime } from '../../hub/runtime';
import { createHubApp, HubApp } from '../../hub/server/app';
import type { Config } from '../../lib/config';
import { migrateLatest } from '../../sql/migrate';
import { uniqueName } from './helpers';
import { testConfig } from './stack';

/**
 * The hub's HTTP app on a free port, against the test stack, as a test drives it: `call` sends
 * a request with a key, `key` creates one with the scopes asked for.
 *
 * @example
 *   const hub = await startTestHub();
 *   const key = await hub.key(['read:enforcement-case']);
 *   const res = await hub.call('GET', '/v1/datasets', { key });
 *   await hub.close();
 */
export interface TestHub {
  base: string;
  rt: Runtime;
  hub: HubApp;
  /** Creates a key for a fresh agency code of this run (or the one given) and returns it in clear. */
  key(scopes: string[], agency?: { code: string; name: string }): Promise<string>;
  call(method: string, path: string, options?: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  close(): Promise<void>;
}

export async function startTestHub(edit: (config: Config) => Config = (c) => c): Promise<TestHub> {
  const rt = createRuntime(edit(testConfig()), 'test-hub');
  await migrateLatest(rt.db);
  const hub = createHubApp(rt);
  try {
    await hub.start();
  } catch (err) {
    await hub.stop().catch(() => undefined);
    await rt.close();
    throw err;
  }
  const server: Server = await new Promise((resolve) => {
    const s = hub.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const run = uniqueName('agency');
  return {
    base,
    rt,
    hub,
    key: async (scopes, agency) => (await createApiKey(rt.db, { agencyCode: agency?.code ?? run, agencyName: agency?.name ?? `测试单位 ${run}`, scopes })).key,
    call: async (method, path, options = {}) => {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.key) headers.authorization = `Bearer ${options.key}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      } else if (body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(base + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON (the docs page): the text is the body
      }
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hub.stop();
      await rt.close();
    },
  };
}
