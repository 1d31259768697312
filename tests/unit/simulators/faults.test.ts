import { PENALTIES_PATH, startEnforcementApi } from '../../../connectors/simulators/enforcement-api';
import { startHotlineApi, TICKETS_PATH } from '../../../connectors/simulators/hotline-api';
import type { SimulatedApi, SimulatedApiOptions } from '../../../connectors/simulators/api-server';

// Both simulators share one fault injector; each case runs against both.
const simulators: Array<[string, (o: SimulatedApiOptions) => Promise<SimulatedApi>, string]> = [
  ['enforcement', startEnforcementApi, PENALTIES_PATH],
  ['hotline', startHotlineApi, TICKETS_PATH],
];

describe.each(simulators)('fault injection on the %s simulator', (_name, start, path) => {
  const opened: SimulatedApi[] = [];
  const open = async (options: Partial<SimulatedApiOptions>) => {
    const api = await start({ seed: 5, count: 300, ...options });
    opened.push(api);
    return api;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((api) => api.close()));
  });

  it('answers every call 500 when errorRate is 1', async () => {
    const api = await open({ faults: { errorRate: 1 } });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ code: 'INTERNAL' });
    }
    expect(api.stats).toMatchObject({ requests: 5, faults: 5, byKind: { error: 5 } });
  });

  it('answers 429 with Retry-After in seconds when throttleRate is 1', async () => {
    const api = await open({ faults: { throttleRate: 1, retryAfterSeconds: 2 } });
    const res = await fetch(`${api.url}${path}`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('refuses a request without the Bearer token, and with a wrong one, with 401 UNAUTHORIZED', async () => {
    const api = await open({ token: 's3cret' });
    const none = await fetch(`${api.url}${path}`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await fetch(`${api.url}${path}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${api.url}${path}`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect(api.stats.faults).toBe(0);
  });

  it('fails every request while a permanent fault lasts, and recovers when it is lifted', async () => {
    const api = await open({ token: 't', faults: { permanent: 'unauthorized' } });
    const auth = { headers: { authorization: 'Bearer t' } };
    expect((await fetch(`${api.url}${path}`, auth)).status).toBe(401);
    api.setFaults({ permanent: 'server_error' });
    expect((await fetch(`${api.url}${path}`, auth)).status).toBe(500);
    api.setFaults({});
    expect((await fetch(`${api.url}${path}`, auth)).status).toBe(200);
  });

  it('answers slowly enough to trip a client timeout, and still closes promptly', async () => {
    const api = await open({ faults: { slowRate: 1, slowMs: 10_000 } });
    await expect(fetch(`${api.url}${path}`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    api.setFaults({ slowRate: 1, slowMs: 50 });
    expect((await fetch(`${api.url}${path}`)).status).toBe(200);
    expect(api.stats.byKind.slow).toBe(2);
  });

  it('fails the same requests for the same seed', async () => {
    const statuses = async (api: SimulatedApi) => {
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await fetch(`${api.url}${path}?limit=1&page_size=1`)).status);
      return out;
    };
    const faults = { errorRate: 0.3, throttleRate: 0.2 };
    const [a, b] = [await open({ faults }), await open({ faults })];
    const first = await statuses(a);
    expect(await statuses(b)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 429, 500]));
  });
});
