import { AgencySimulator } from './agency-records';
import { createSimulatorApp, GroundTruthRecord, intParam, listen, route, shanghaiTime, SimulatedApi, SimulatedApiOptions, timeParam } from './api-server';
import { Draws, mix } from './draws';
import { FaultInjector } from './faults';
import { Timeline, TimelineShape } from './timeline';

/**
 * The market regulator's penalty API, page/offset style, as connector tests, the demo and
 * benchmarks meet it:
 *
 *   GET /api/v1/penalties?updated_since=2025-03-01 08:00:00&page=2&page_size=500
 *   → { "total": 1234, "page": 2, "page_size": 500, "items": [{ "id", "updated_at", 案件编号, … }] }
 *
 * Items are ordered by (updated_at, id) and filtered by updated_at >= updated_since. Cases
 * arrive in bursts that share one updated_at (a page boundary routinely falls inside one),
 * and some cases are corrected later: the API then serves only the corrected version, at
 * its new updated_at, so the case moves from its old place to the end of the list.
 *
 * @example
 *   const api = await startEnforcementApi({ seed: 7, count: 5000, token: 't' });
 *   const res = await fetch(`${api.url}/api/v1/penalties?page=1`, { headers: { authorization: 'Bearer t' } });
 *   api.grow(200); // new cases and due corrections, with later timestamps
 *   await api.close();
 */
export const PENALTIES_PATH = '/api/v1/penalties';

/** Ids are zero-padded record numbers, so string order (the API's tie-break) is arrival order. */
const MAX_RECORDS = 9_999_999;
const YEAR = 2025;
const START = Date.UTC(YEAR, 0, 2, 0, 0, 0) / 1000; // 2025-01-02 08:00:00 Shanghai
const TEMPLATES = 256;
const FINES_WAN = ['0.2', '0.5', '1', '2', '5', '8', '12.5', '30', '60'];
const STATUS_AFTER_CORRECTION = ['执行完毕', '已结案'];
const SALT_TEMPLATE = 21;
const SALT_CONTENT = 22;

/**
 * Most cases come in an export batch of 50–300 with one timestamp; the rest trickle in as
 * single edits. About 12% are corrected once and 3% twice, 1–60 bursts later.
 */
export const ENFORCEMENT_SHAPE: TimelineShape = {
  startSeconds: START,
  burstSize: (rng) => (rng.chance(0.7) ? rng.int(50, 300) : rng.int(1, 12)),
  gapSeconds: (rng) => rng.int(60, 1800),
  laterVersions: (rng) => {
    const roll = rng.next();
    if (roll >= 0.15) return [];
    const first = rng.int(1, 60);
    return roll < 0.03 ? [first, first + rng.int(1, 60)] : [first];
  },
};

export function caseNumber(record: number): string {
  return `JSJ-${YEAR}-${String(record + 1).padStart(7, '0')}`;
}

/**
 * Builds items from a pool of penalties the AgencySimulator wrote, so the vocabulary stays
 * in one place; what makes a case itself (ids, amounts, status) is drawn from (seed, case).
 */
export class PenaltyCatalogue {
  private readonly templates: Array<Record<string, unknown>>;

  constructor(private readonly seed: number) {
    const sim = new AgencySimulator({ seed, count: 0, year: YEAR });
    this.templates = Array.from({ length: TEMPLATES }, () => JSON.parse(sim.penalty().payload) as Record<string, unknown>);
  }

  item(record: number, version: number, seconds: number): Record<string, unknown> {
    const id = caseNumber(record);
    const updatedAt = shanghaiTime(seconds);
    const body = { ...this.templates[mix(this.seed, record, SALT_TEMPLATE) % TEMPLATES] };
    const rng = new Draws(mix(this.seed, record, SALT_CONTENT));
    // Assigning existing keys keeps the template's field order, so payloads read like the agency's.
    body.案件编号 = id;
    body.决定书文号 = `酒市监罚〔${YEAR}〕${record + 1}号`;
    body['罚款金额（万元）'] = rng.pick(FINES_WAN);
    body['违法经营额（元）'] = String(rng.int(1_000, 900_000));
    body['违法所得（元）'] = String(rng.int(100, 150_000));
    if (version > 0) {
      // A correction: the amount was mistyped, and the case has moved on since.
      const fix = new Draws(mix(this.seed, record, SALT_CONTENT, version));
      body['罚款金额（万元）'] = fix.pick(FINES_WAN.filter((f) => f !== body['罚款金额（万元）']));
      body.案件状态 = STATUS_AFTER_CORRECTION[Math.min(version, STATUS_AFTER_CORRECTION.length) - 1];
    }
    body.更新时间 = updatedAt;
    return { id, updated_at: updatedAt, ...body };
  }
}

export async function startEnforcementApi(options: SimulatedApiOptions): Promise<SimulatedApi> {
  const timeline = new Timeline(options.seed, ENFORCEMENT_SHAPE);
  const grow = (n: number) => {
    if (timeline.count + n > MAX_RECORDS) throw new RangeError(`the enforcement simulator holds at most ${MAX_RECORDS} cases`);
    timeline.grow(n);
  };
  grow(options.count);
  const catalogue = new PenaltyCatalogue(options.seed);
  const faults = new FaultInjector(options.seed, options.faults, options.token);

  const app = createSimulatorApp(faults, (app) => {
    app.get(
      PENALTIES_PATH,
      route((req) => {
        const since = timeParam(req, 'updated_since');
        const page = intParam(req, 'page', 1, 1, 1_000_000_000);
        const pageSize = intParam(req, 'page_size', 100, 1, 1000);
        const from = since === undefined ? 0 : timeline.firstBurstFrom(Math.ceil(since / 1000));
        // Per-burst counts let a deep page skip whole bursts without building their records.
        let total = 0;
        for (let b = from; b < timeline.burstCount; b++) total += timeline.latestIn(b);
        const items: Array<Record<string, unknown>> = [];
        let skip = (page - 1) * pageSize;
        let b = from;
        while (b < timeline.burstCount && skip >= timeline.latestIn(b)) skip -= timeline.latestIn(b++);
        for (; b < timeline.burstCount && items.length < pageSize; b++) {
          for (const a of timeline.arrivals(b)) {
            if (!timeline.isLatest(a.record, a.version)) continue;
            if (skip > 0) {
              skip--;
              continue;
            }
            items.push(catalogue.item(a.record, a.version, timeline.time(b)));
            if (items.length === pageSize) break;
          }
        }
        return { total, page, page_size: pageSize, items };
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
        const item = catalogue.item(a.record, a.version, timeline.time(a.burst));
        yield { id: item.id as string, updated_at: item.updated_at as string, payload: JSON.stringify(item) };
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
