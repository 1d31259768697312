import knex from 'knex';
import { runSource, RunSummary } from '../../connectors/runner';
import { SimulatedApi } from '../../connectors/simulators/api-server';
import { startEnforcementApi } from '../../connectors/simulators/enforcement-api';
import { startHotlineApi } from '../../connectors/simulators/hotline-api';
import { seedProcuratorateDb, SUPERVISION_TABLE } from '../../connectors/simulators/procuratorate-db';
import { createKafka } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { piiSecret } from '../../lib/secrets';
import { loadSources } from '../../pipelines/normalise/mapping';
import { Normaliser, NormaliserStats } from '../../pipelines/normalise/normaliser';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { positionAtEnd } from '../../pipelines/warehouse/consumer-offsets';
import { CANONICAL_TOPICS, WarehouseSink } from '../../pipelines/warehouse/sink-warehouse';
import { ANALYST_ROLE } from '../../sql/migrations/20261127000500-party-link-mart';
import { penaltyPull, ticketPull } from '../support/connectors';
import { eventually, uniqueName } from '../support/helpers';
import { isolatedConfig, isolatedSources } from '../support/pipeline';
import { testConfig } from '../support/stack';
import { FreshDatabase, freshDatabase } from '../support/warehouse';

/**
 * One simulated city: simulators started with one seed draw their parties from the same
 * companies, as the real agencies of one city meet the same companies.
 */
const CITY = 20261127;
const PENALTIES = 2000;
const TICKETS = 1500;
const SUPERVISION = 1200;
const AGENCY_CODE = '11620900MB19512346'; // the penalty source's case_id prefix (config/sources/jq-amr-penalty.yaml)

type Row = Record<string, any>;

/** The party_360 columns that say which record it is and where it came from, in a stable order. */
const key360 = (r: Row) => `${r.record_type}|${r.record_id}|${r.source_id}|${r.status}`;
const sorted = (rows: Row[]) => rows.map(key360).sort();

describe('mart.party_360 fed by the real connectors, normaliser and warehouse sink', () => {
  const base = testConfig();
  const logger = createLogger({ test: 'party360' }, { level: 'error' });
  const tag = uniqueName('p360');
  let fresh: FreshDatabase;
  let penaltyApi: SimulatedApi;
  let hotlineApi: SimulatedApi;
  let ids: { penalty: string; hotline: string; supervision: string };
  let summaries: RunSummary[];
  let normalised: NormaliserStats;

  beforeAll(async () => {
    fresh = await freshDatabase(base, 'party360', { poolMax: 6 });
    penaltyApi = await startEnforcementApi({ seed: CITY, count: PENALTIES });
    hotlineApi = await startHotlineApi({ seed: CITY, count: TICKETS });
    // The procuratorate's own table lives beside the warehouse, in the test's database.
    await seedProcuratorateDb(fresh.db, { seed: CITY, count: SUPERVISION });

    // The simulators number cases, tickets and records the same way whatever their seed, and the
    // sink also applies what other runs put on the shared canonical topics meanwhile (the demo
    // feed, another run of this test): record ids get this run's tag through the mapping, so
    // no other run's version of "JQ12345-20250000005" can take the place of this run's.
    const sourcesSetup = isolatedSources((_id, doc) => {
      const fields = doc.mapping.fields;
      if (doc.dataset === 'enforcement-case') {
        doc.connector = penaltyPull(penaltyApi.url, { page_size: 500 });
        fields.case_id = { template: `${tag}:${fields.case_id.template}` };
      }
      if (doc.dataset === 'hotline-ticket') {
        doc.connector = ticketPull(hotlineApi.url, { page_size: 500 });
        fields.ticket_id = { template: `${tag}:{${fields.ticket_id.from}}` };
      }
      if (doc.dataset === 'supervision-record') {
        const { host, port, user } = fresh.config.database;
        doc.connector = { kind: 'db-pull', config: { client: 'pg', host, port, database: fresh.name, user, table: SUPERVISION_TABLE, batch_size: 500 } };
        fields.record_id = { template: `${tag}:{${fields.record_id.from}}` };
      }
    });
    ids = sourcesSetup.ids;
    const config = isolatedConfig(fresh.config, sourcesSetup.dir);
    const kafka = createKafka(config, { clientId: 'it-party360' });
    const registry = createRegistry(config);
    const sources = loadSources(config.sources_dir);
    await prepareTopicsAndSchemas(config, kafka, registry, [...sources.keys()]);

    // The sink applies only what arrives from now on: the canonical topics hold every other run's records.
    const consumer = `${fresh.name}-sink`;
    await positionAtEnd(fresh.db, kafka, consumer, CANONICAL_TOPICS);
    // Other runs' messages on the shared topics come first and may make a batch slow: a long
    // session keeps a slow batch from costing a rebalance (and a second transaction waiting on it).
    const sink = new WarehouseSink({ config, kafka, registry, db: fresh.db, logger, consumer, groupId: consumer, sessionTimeoutMs: 180_000 });
    const normaliser = new Normaliser({ config, kafka, registry, sources, piiSecret: piiSecret(config), logger });
    await sink.start();
    await normaliser.start();
    try {
      const deps = { kafka, registry, db: fresh.db, logger };
      summaries = await Promise.all([ids.penalty, ids.hotline, ids.supervision].map((id) => runSource(deps, sources.get(id)!, { trigger: 'test' })));
      const produced = summaries.reduce((n, s) => n + s.produced, 0);
      await eventually(() => normaliser.stats.read >= produced, 120_000, `the normaliser to read all ${produced} raw records`);
      normalised = { ...normaliser.stats };

      // Everything of this run is applied when each source's history holds every version the normaliser emitted.
      const applied = async () => {
        const { rows } = await fresh.db.raw(
          `select (select count(*) from core.enforcement_case_history where record->'lineage'->>'source_id' = any(:ours))
                + (select count(*) from core.hotline_ticket_history where record->'lineage'->>'source_id' = any(:ours))
                + (select count(*) from core.supervision_record_history where record->'lineage'->>'source_id' = any(:ours)) as versions`,
          { ours: Object.values(ids) },
        );
        return Number(rows[0].versions);
      };
      await eventually(async () => (await applied()) >= normalised.canonical, 300_000, `the sink to apply all ${normalised.canonical} canonical records`);
    } finally {
      await normaliser.stop();
      await sink.stop();
    }
  }, 600_000);

  afterAll(async () => {
    await penaltyApi?.close();
    await hotlineApi?.close();
    await fresh?.drop();
  });

  it('pulls every source completely and normalises every record', async () => {
    const current = async (table: string, source: string) => Number((await fresh.db(`core.${table}`).where('lineage_source_id', source).count<{ count: string }[]>('* as count'))[0].count);
    // One object, so that a failure shows the runs and the normaliser's counts beside the rows.
    expect({
      runs: summaries.map((s) => ({ source: s.sourceId, status: s.status, error: s.error })),
      penaltiesRead: summaries[0].read, // the API serves each case's latest version once
      supervisionRead: summaries[2].read,
      normalised: { read: normalised.read, dead: normalised.dead },
      rows: { cases: await current('enforcement_case', ids.penalty), tickets: await current('hotline_ticket', ids.hotline), supervision: await current('supervision_record', ids.supervision) },
    }).toEqual({
      runs: [ids.penalty, ids.hotline, ids.supervision].map((source) => ({ source, status: 'succeeded', error: undefined })),
      penaltiesRead: PENALTIES,
      supervisionRead: SUPERVISION,
      normalised: { read: summaries.reduce((n, s) => n + s.produced, 0), dead: 0 },
      rows: { cases: PENALTIES, tickets: TICKETS, supervision: SUPERVISION },
    });
  });

  it('shows, for a company all three agencies know, its penalties, tickets and supervision records from the three sources', async () => {
    // What the agencies hold now, read from the simulators, not from the warehouse.
    const penalties = [...penaltyApi.groundTruth()].map((r) => JSON.parse(r.payload) as Row);
    const tickets = [...hotlineApi.groundTruth()].map((r) => JSON.parse(r.payload) as Row);
    const supervision = (await fresh.db(SUPERVISION_TABLE).select('案件编号', '当事人信用代码')) as Row[];
    const byCode = (rows: Row[], field: string, id: string) => {
      const out = new Map<string, string[]>();
      for (const r of rows) if (r[field]) out.set(r[field], [...(out.get(r[field]) ?? []), r[id]]);
      return out;
    };
    const penaltyCodes = byCode(penalties, '统一社会信用代码', '案件编号');
    const ticketCodes = byCode(tickets, '被反映对象信用代码', '工单编号');
    const supervisionCodes = byCode(supervision, '当事人信用代码', '案件编号');
    const shared = [...penaltyCodes.keys()].filter((code) => ticketCodes.has(code) && supervisionCodes.has(code));
    expect(shared.length).toBeGreaterThan(0);
    // The company with the most records between the three; ties broken by code, so the choice is reproducible.
    const total = (code: string) => penaltyCodes.get(code)!.length + ticketCodes.get(code)!.length + supervisionCodes.get(code)!.length;
    const code = shared.sort((a, b) => total(b) - total(a) || (a < b ? -1 : 1))[0];

    const view = (await fresh.db('mart.party_360').where({ party_uscc: code })) as Row[];
    expect(new Set(view.map((r) => r.party_key))).toEqual(new Set([`USCC:${code}`]));
    expect(view.every((r) => r.confidence === 'high')).toBe(true);

    // Each kind of record in the view is exactly what the core table holds for the company…
    const core = async (table: string, type: string, idColumn: string, uscc: string) =>
      ((await fresh.db(`core.${table}`).where(uscc, code).select(idColumn, 'lineage_source_id', 'status')) as Row[]).map((r) => ({
        record_type: type,
        record_id: r[idColumn],
        source_id: r.lineage_source_id,
        status: r.status,
      }));
    const expected = {
      'enforcement-case': await core('enforcement_case', 'enforcement-case', 'case_id', 'party_uscc'),
      'hotline-ticket': await core('hotline_ticket', 'hotline-ticket', 'ticket_id', 'subject_uscc'),
      'supervision-record': await core('supervision_record', 'supervision-record', 'record_id', 'party_uscc'),
    };
    for (const [type, rows] of Object.entries(expected)) {
      expect({ type, rows: sorted(view.filter((r) => r.record_type === type)) }).toEqual({ type, rows: sorted(rows) });
    }

    // …and this run's part of it is exactly what each agency holds, from the source that pulled it.
    const ours = (type: string, source: string) =>
      view
        .filter((r) => r.record_type === type && r.source_id === source)
        .map((r) => r.record_id)
        .sort();
    expect(ours('enforcement-case', ids.penalty)).toEqual(penaltyCodes.get(code)!.map((n) => `${tag}:${AGENCY_CODE}:${n}`).sort());
    expect(ours('hotline-ticket', ids.hotline)).toEqual(ticketCodes.get(code)!.map((n) => `${tag}:${n}`).sort());
    expect(ours('supervision-record', ids.supervision)).toEqual(supervisionCodes.get(code)!.map((n) => `${tag}:${n}`).sort());

    // The penalties carry their amounts; tickets and supervision records have none.
    const fines = await fresh.db('core.enforcement_case').where('party_uscc', code).select('case_id', fresh.db.raw('fine_amount::text as fine'));
    const amounts = new Map(view.filter((r) => r.record_type === 'enforcement-case').map((r) => [r.record_id, r.amount]));
    for (const f of fines) expect(amounts.get(f.case_id)).toBe(f.fine);
    expect(view.filter((r) => r.record_type !== 'enforcement-case').every((r) => r.amount === null)).toBe(true);

    // An analyst, who may read mart only, sees the same.
    const analyst = knex({ client: 'pg', connection: { host: fresh.config.database.host, port: fresh.config.database.port, database: fresh.name, user: ANALYST_ROLE }, pool: { min: 0, max: 1 } });
    try {
      const seen = (await analyst('mart.party_360').where({ party_uscc: code })) as Row[];
      expect(sorted(seen)).toEqual(sorted(view));
      await expect(analyst.raw('select count(*) from core.enforcement_case')).rejects.toThrow(/permission denied/);
    } finally {
      await analyst.destroy();
    }
  });
});
