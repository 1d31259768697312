import { AgencySimulator } from './agency-records';
import { BadRequest, createSimulatorApp, GroundTruthRecord, intParam, listen, route, shanghaiTime, SimulatedApi, SimulatedApiOptions, stringParam, timeParam } from './api-server';
import { mix } from './draws';
import { FaultInjector } from './faults';
import { Timeline, TimelineShape } from './timeline';

/**
 * The 12345 hotline's ticket API, cursor-token style: a change feed in which every status
 * change of a ticket is one entry carrying the ticket's state as of that change.
 *
 *   GET /api/tickets?since=2025-03-01T00:00:00Z&limit=200   (first call)
 *   GET /api/tickets?cursor=<next_cursor>&limit=200          (every later call)
 *   → { "data": [{ 工单编号, 工单状态, 更新时间, … }], "next_cursor": "…" | null }
 *
 * Entries are ordered by (更新时间, 工单编号); one 工单编号 recurs as it goes 已受理 → 已派单 →
 * 办理中 → 已办结. A cursor names a position in the feed, which only ever grows at the end,
 * so a cursor stays valid after `grow`. `next_cursor` is null once a page reaches the end
 * of what exists now; to pick up later changes, keep the cursor of the last page and ask
 * again, or restart with since=<last 更新时间> (inclusive, so that timestamp comes again).
 *
 * @example
 *   const api = await startHotlineApi({ seed: 7, count: 2000 });
 *   let url = `${api.url}/api/tickets?limit=500`;
 *   for (;;) { const page = await (await fetch(url)).json(); if (!page.next_cursor) break; url = `${api.url}/api/tickets?cursor=${page.next_cursor}&limit=500`; }
 */
export const TICKETS_PATH = '/api/tickets';

const MAX_TICKETS = 9_999_999;
const YEAR = 2025;
const START = Date.UTC(YEAR, 0, 2, 0, 0, 0) / 1000; // 2025-01-02 08:00:00 Shanghai
const TEMPLATES = 128;
const SALT_TEMPLATE = 31;
const SALT_RELATED = 32;
const SALT_CURSOR = 33;

/**
 * Calls trickle in (1–20 per timestamp) with the odd batch of 50–200 after a sync outage.
 * A ticket is dispatched 1–8 bursts (minutes to an hour) after it is taken, in progress
 * 2–100 bursts later, done 20–1500 later (hours to about a week); a share stop early.
 */
export const HOTLINE_SHAPE: TimelineShape = {
  startSeconds: START,
  burstSize: (rng) => (rng.chance(0.8) ? rng.int(1, 20) : rng.int(50, 200)),
  gapSeconds: (rng) => rng.int(5, 900),
  laterVersions: (rng) => {
    const steps = rng.pick([0, 1, 2, 3, 3, 3]);
    const dispatched = rng.int(1, 8);
    const inProgress = dispatched + rng.int(2, 100);
    return [dispatched, inProgress, inProgress + rng.int(20, 1500)].slice(0, steps);
  },
};

export function ticketNumber(record: number): string {
  return `JQ12345-${YEAR}${String(record + 1).padStart(7, '0')}`;
}

/** Ticket states built from four-step tickets the AgencySimulator wrote, cut at the version asked for. */
export class TicketCatalogue {
  private readonly templates: Array<Array<Record<string, unknown>>> = [];

  constructor(private readonly seed: number) {
    const sim = new AgencySimulator({ seed, count: 0, year: YEAR });
    while (this.templates.length < TEMPLATES) {
      const versions = sim.ticketVersions();
      if (versions.length === 4) this.templates.push(versions.map((v) => JSON.parse(v.payload) as Record<string, unknown>));
    }
  }

  /** The ticket as of `version`; `times` are the epoch seconds of versions 0..version. */
  item(record: number, version: number, times: number[]): Record<string, unknown> {
    const template = this.templates[mix(this.seed, record, SALT_TEMPLATE) % TEMPLATES];
    // What the caller said stays put; only what handling changes moves with the version.
    const body = { ...template[0] };
    const step = template[version];
    body.工单编号 = ticketNumber(record);
    body.受理时间 = shanghaiTime(times[0]);
    body.办理时限 = shanghaiTime(times[0] + 15 * 86_400);
    body.被反映对象信用代码 = step.被反映对象信用代码;
    body.派单时间 = version >= 1 ? shanghaiTime(times[1]) : '';
    body.工单状态 = step.工单状态;
    body.办结时间 = version >= 3 ? shanghaiTime(times[3]) : '';
    body.满意度 = step.满意度;
    body.关联工单 = template[0].关联工单 && record > 0 ? ticketNumber(mix(this.seed, record, SALT_RELATED) % record) : '';
    body.更新时间 = shanghaiTime(times[version]);
    return body;
  }
}

/** Opaque to clients; the check digits turn a mangled or foreign cursor into a 400, not a wrong page. */
function encodeCursor(seed: number, burst: number, index: number): string {
  return Buffer.from(`${burst}.${index}.${mix(seed, burst, index, SALT_CURSOR).toString(36)}`).toString('base64url');
}

function decodeCursor(seed: number, token: string, timeline: Timeline): { burst: number; index: number } {
  const m = /^(\d+)\.(\d+)\.([0-9a-z]+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  const burst = m ? Number(m[1]) : -1;
  const index = m ? Number(m[2]) : -1;
  const valid = m !== null && m[3] === mix(seed, burst, index, SALT_CURSOR).toString(36) && (burst < timeline.burstCount ? index < timeline.arrivalsIn(burst) : burst === timeline.burstCount && index === 0);
  if (!valid) throw new BadRequest('BAD_CURSOR', 'cursor is not one this API issued', { cursor: token });
  return { burst, index };
}

export async function startHotlineApi(options: SimulatedApiOptions): Promise<SimulatedApi> {
  const timeline = new Timeline(options.seed, HOTLINE_SHAPE);
  const grow = (n: number) => {
    if (timeline.count + n > MAX_TICKETS) throw new RangeError(`the hotline simulator holds at most ${MAX_TICKETS} tickets`);
    timeline.grow(n);
  };
  grow(options.count);
  const catalogue = new TicketCatalogue(options.seed);
  const faults = new FaultInjector(options.seed, options.faults, options.token);
  const ticket = (record: number, version: number) => catalogue.item(record, version, timeline.arrivedBursts(record).map((b) => timeline.time(b)));

  const app = createSimulatorApp(faults, (app) => {
    app.get(
      TICKETS_PATH,
      route((req) => {
        const limit = intParam(req, 'limit', 100, 1, 1000);
        const cursor = stringParam(req, 'cursor');
        const since = timeParam(req, 'since');
        // A cursor already encodes where `since` led, so it wins over `since`.
        let { burst, index } = cursor
          ? decodeCursor(options.seed, cursor, timeline)
          : { burst: since === undefined ? 0 : timeline.firstBurstFrom(Math.ceil(since / 1000)), index: 0 };
        const data: Array<Record<string, unknown>> = [];
        while (burst < timeline.burstCount && data.length < limit) {
          const arrivals = timeline.arrivals(burst);
          // A version arrived after it is no longer current, but the feed still tells that change as it was.
          for (; index < arrivals.length && data.length < limit; index++) data.push(ticket(arrivals[index].record, arrivals[index].version));
          if (index === arrivals.length) {
            burst++;
            index = 0;
          }
        }
        return { data, next_cursor: burst < timeline.burstCount ? encodeCursor(options.seed, burst, index) : null };
      }),
    );
  });
  const server = await listen(app, options.port ?? 0, faults);

  return {
    url: server.url,
    close: server.close,
    grow,
    *groundTruth(): Generator<GroundTruthRecord> {
      for (const a of timeline.latestFrom()) {
        const item = ticket(a.record, a.version);
        yield { id: item.工单编号 as string, updated_at: item.更新时间 as string, payload: JSON.stringify(item) };
      }
    },
    setFaults: (next) => faults.set(next),
    stats: faults.stats,
    get count() {
      return timeline.count;
    },
    get asOf() {
      return timeline.burstCount === 0 ? null : shanghaiTime(timeline.time(timeline.burstCount - 1));
    },
  };
}
