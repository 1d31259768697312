import { startHotlineApi, TICKETS_PATH } from '../../../connectors/simulators/hotline-api';
import type { SimulatedApi } from '../../../connectors/simulators/api-server';

type Ticket = Record<string, unknown> & { 工单编号: string; 工单状态: string; 更新时间: string };
interface Feed {
  data: Ticket[];
  next_cursor: string | null;
}

async function feed(api: SimulatedApi, query: string): Promise<Feed> {
  const res = await fetch(`${api.url}${TICKETS_PATH}?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Feed;
}

/** Walks the cursor to the end; returns every entry and the cursor of the last page asked for. */
async function walk(api: SimulatedApi, first: string, limit = 500): Promise<{ entries: Ticket[]; pages: number; lastCursor: string | null }> {
  const entries: Ticket[] = [];
  let query = `${first}&limit=${limit}`;
  let lastCursor: string | null = null;
  for (let pages = 1; ; pages++) {
    const page = await feed(api, query);
    entries.push(...page.data);
    if (page.next_cursor === null) return { entries, pages, lastCursor };
    lastCursor = page.next_cursor;
    query = `cursor=${encodeURIComponent(page.next_cursor)}&limit=${limit}`;
  }
}

const FLOW = ['已受理', '已派单', '办理中', '已办结'];
const key = (t: Ticket) => `${t.更新时间}|${t.工单编号}`;

describe('12345 hotline ticket API simulator', () => {
  let api: SimulatedApi;

  beforeEach(async () => {
    api = await startHotlineApi({ seed: 42, count: 3000 });
  });

  afterEach(() => api.close());

  it('walks every ticket version to the end with cursor tokens, and next_cursor is null there', async () => {
    const { entries, pages } = await walk(api, 'since=');
    expect(pages).toBeGreaterThan(1);
    for (let i = 1; i < entries.length; i++) expect(key(entries[i - 1]) < key(entries[i])).toBe(true);
    const versions = new Map<string, Ticket[]>();
    for (const t of entries) versions.set(t.工单编号, [...(versions.get(t.工单编号) ?? []), t]);
    expect(versions.size).toBe(3000);
    // A ticket recurs as it moves along the flow, one step per version.
    expect([...versions.values()].some((v) => v.length >= 3)).toBe(true);
    for (const v of versions.values()) expect(v.map((t) => t.工单状态)).toEqual(FLOW.slice(0, v.length));
    // The last version of each ticket is the ground truth.
    const latest = [...versions.values()].map((v) => v[v.length - 1]).sort((a, b) => (key(a) < key(b) ? -1 : 1));
    expect(latest.map((t) => JSON.stringify(t))).toEqual([...api.groundTruth()].map((g) => g.payload));
  });

  it('starts the feed at since, inclusive', async () => {
    const all = (await walk(api, 'since=')).entries;
    const since = all[Math.floor(all.length / 2)].更新时间;
    const expected = all.filter((t) => t.更新时间 >= since);
    const iso = new Date(`${since.replace(' ', 'T')}+08:00`).toISOString();
    const fromSince = (await walk(api, `since=${iso}`)).entries;
    expect(fromSince.map(key)).toEqual(expected.map(key));
    expect(fromSince[0].更新时间).toBe(since);
  });

  it('keeps a cursor valid after growth, so a client resumes where it stopped', async () => {
    const first = await walk(api, 'since=', 1000);
    const asOf = api.asOf!;
    api.grow(1000);
    // Re-asking the last page's cursor repeats that page, then carries on into what is new.
    const resumed = await walk(api, `cursor=${encodeURIComponent(first.lastCursor!)}`, 1000);
    const seen = new Set(first.entries.map(key));
    const fresh = resumed.entries.filter((t) => !seen.has(key(t)));
    expect(fresh.length).toBeGreaterThan(1000);
    for (const t of fresh) expect(t.更新时间 > asOf).toBe(true);
    // Old tickets move on too: some new entries are later versions of tickets seen before.
    const known = new Set(first.entries.map((t) => t.工单编号));
    expect(fresh.some((t) => known.has(t.工单编号))).toBe(true);
  });

  it('refuses a cursor it did not issue with 400 BAD_CURSOR', async () => {
    for (const cursor of ['garbage', Buffer.from('3.0.zzz').toString('base64url')]) {
      const res = await fetch(`${api.url}${TICKETS_PATH}?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'BAD_CURSOR' });
    }
  });

  it('serves the same first page, byte for byte, for the same seed', async () => {
    const twin = await startHotlineApi({ seed: 42, count: 3000 });
    try {
      const text = async (a: SimulatedApi) => (await fetch(`${a.url}${TICKETS_PATH}?limit=300`)).text();
      expect(await text(twin)).toBe(await text(api));
    } finally {
      await twin.close();
    }
  });

  // Building the index of a million tickets takes a few seconds on a busy 2-core machine: no timing here.
  it('answers the newest tickets of a million', async () => {
    const big = await startHotlineApi({ seed: 7, count: 1_000_000 });
    try {
      const page = await feed(big, `since=${encodeURIComponent(big.asOf!)}&limit=1000`);
      expect(page.data.length).toBeGreaterThan(0);
      expect(page.next_cursor).toBeNull();
      for (const t of page.data) expect(t.更新时间).toBe(big.asOf);
    } finally {
      await big.close();
    }
  }, 60_000);
});
