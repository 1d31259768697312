import { PENALTIES_PATH, startEnforcementApi } from '../../../connectors/simulators/enforcement-api';
import type { SimulatedApi } from '../../../connectors/simulators/api-server';

interface Page {
  total: number;
  page: number;
  page_size: number;
  items: Array<Record<string, unknown> & { id: string; updated_at: string }>;
}

async function page(api: SimulatedApi, query: Record<string, string | number>): Promise<Page> {
  const res = await fetch(`${api.url}${PENALTIES_PATH}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

async function pageAll(api: SimulatedApi, query: Record<string, string> = {}, pageSize = 1000): Promise<Page['items']> {
  const items: Page['items'] = [];
  for (let p = 1; ; p++) {
    const body = await page(api, { ...query, page: p, page_size: pageSize });
    items.push(...body.items);
    if (items.length >= body.total || body.items.length === 0) return items;
  }
}

const key = (item: { updated_at: string; id: string }) => `${item.updated_at}|${item.id}`;

describe('enforcement penalty API simulator', () => {
  let api: SimulatedApi;

  beforeEach(async () => {
    api = await startEnforcementApi({ seed: 42, count: 4000 });
  });

  afterEach(() => api.close());

  it('pages over everything, returning each case once, in (updated_at, id) order, as its latest version', async () => {
    const items = await pageAll(api);
    expect(items).toHaveLength(4000);
    expect(new Set(items.map((i) => i.id)).size).toBe(4000);
    for (let i = 1; i < items.length; i++) expect(key(items[i - 1]) < key(items[i])).toBe(true);
    for (const item of items) expect(item.更新时间).toBe(item.updated_at);
    expect(items.map((i) => JSON.stringify(i))).toEqual([...api.groundTruth()].map((g) => g.payload));
  });

  it('serves a corrected case once, at its newer updated_at, with changed fields', async () => {
    const before = new Map((await pageAll(api)).map((i) => [i.id, i]));
    const asOf = api.asOf!;
    api.grow(3000);
    const after = await pageAll(api);
    expect(after).toHaveLength(7000);
    expect(new Set(after.map((i) => i.id)).size).toBe(7000);
    const corrected = after.filter((i) => before.has(i.id) && i.updated_at !== before.get(i.id)!.updated_at);
    expect(corrected.length).toBeGreaterThan(0);
    for (const item of corrected) {
      const old = before.get(item.id)!;
      expect(item.updated_at > asOf).toBe(true);
      const { updated_at: _a, 更新时间: _b, ...content } = item;
      const { updated_at: _c, 更新时间: _d, ...oldContent } = old;
      expect(content).not.toEqual(oldContent);
    }
    // Everything new or corrected lies after the clock of the first sync, so an inclusive since finds it all.
    const since = await pageAll(api, { updated_since: asOf });
    const changed = after.filter((i) => i.updated_at >= asOf);
    expect(since.map((i) => i.id)).toEqual(changed.map((i) => i.id));
  });

  it('puts page boundaries inside bursts of cases sharing one updated_at', async () => {
    const items = await pageAll(api, {}, 100);
    const bursts = new Map<string, number>();
    for (const item of items) bursts.set(item.updated_at, (bursts.get(item.updated_at) ?? 0) + 1);
    expect(Math.max(...bursts.values())).toBeGreaterThanOrEqual(50);
    const split = [];
    for (let boundary = 100; boundary < items.length; boundary += 100) {
      if (items[boundary - 1].updated_at === items[boundary].updated_at) split.push(boundary);
    }
    expect(split.length).toBeGreaterThan(0);
    // The same split seen through the API: the last item of one page and the first of the next.
    const p = split[0] / 100;
    const [left, right] = [await page(api, { page: p, page_size: 100 }), await page(api, { page: p + 1, page_size: 100 })];
    expect(left.items[99].updated_at).toBe(right.items[0].updated_at);
    expect(left.items[99].id < right.items[0].id).toBe(true);
  });

  it('filters on updated_at >= updated_since, in either timestamp form', async () => {
    const all = await pageAll(api);
    const since = all[2500].updated_at;
    const expected = all.filter((i) => i.updated_at >= since).map((i) => i.id);
    const agencyForm = await pageAll(api, { updated_since: since });
    expect(agencyForm.map((i) => i.id)).toEqual(expected);
    expect(agencyForm[0].updated_at).toBe(since);
    const iso = `${since.replace(' ', 'T')}+08:00`;
    expect((await page(api, { updated_since: iso })).total).toBe(expected.length);
    const utc = new Date(iso).toISOString();
    expect((await page(api, { updated_since: utc })).total).toBe(expected.length);
  });

  it('answers an empty page past the end and 400 for parameters out of range', async () => {
    const past = await page(api, { page: 1000, page_size: 100 });
    expect(past).toMatchObject({ total: 4000, page: 1000, page_size: 100, items: [] });
    for (const query of ['page_size=1001', 'page=0', 'page=x', 'updated_since=yesterday']) {
      const res = await fetch(`${api.url}${PENALTIES_PATH}?${query}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST' });
    }
  });

  it('serves the same first page, byte for byte, for the same seed', async () => {
    const twin = await startEnforcementApi({ seed: 42, count: 4000 });
    const other = await startEnforcementApi({ seed: 43, count: 4000 });
    try {
      const text = async (a: SimulatedApi) => (await fetch(`${a.url}${PENALTIES_PATH}?page=1&page_size=200`)).text();
      expect(await text(twin)).toBe(await text(api));
      expect(await text(other)).not.toBe(await text(api));
    } finally {
      await Promise.all([twin.close(), other.close()]);
    }
  });

  it('serves page 9,000 of a million cases without building the million', async () => {
    const big = await startEnforcementApi({ seed: 7, count: 1_000_000 });
    try {
      const body = await page(big, { page: 9000, page_size: 100 });
      expect(body.total).toBe(1_000_000);
      expect(body.items).toHaveLength(100);
      for (let i = 1; i < 100; i++) expect(key(body.items[i - 1]) < key(body.items[i])).toBe(true);
    } finally {
      await big.close();
    }
  }, 60_000);
});
