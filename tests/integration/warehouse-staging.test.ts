import type { Knex } from 'knex';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { loadSources } from '../../pipelines/normalise/mapping';
import { normaliseContext } from '../../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { CORE_TABLES } from '../../pipelines/warehouse/core-rows';
import { upsertRecords } from '../../pipelines/warehouse/upsert-batch';
import { rawTopic } from '../../schemas/catalog';
import { FreshDatabase, freshDatabase } from '../support/warehouse';
import { SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';

type Rec = Record<string, any>;

/** Text that COPY's format, array literals and JSON each give a meaning to. */
const AWKWARD = 'tab\there, line\nbreak, cr\rhere, back\\slash, \\N, "quoted", {braced}, comma,; \'; drop table core.party; --';

describe('the staging load (COPY text into a temporary table, then merge)', () => {
  const config = testConfig();
  let fresh: FreshDatabase;
  let db: Knex;

  beforeAll(async () => {
    fresh = await freshDatabase(config, 'whstage');
    db = fresh.db;
  });

  afterAll(() => fresh?.drop());

  it('carries awkward text in columns, arrays, jsonb and the stored record through unchanged', async () => {
    const ctx = normaliseContext({ config, sources: loadSources(SHIPPED_SOURCES), piiSecret: 'test-secret' });
    let record: Rec | undefined;
    let offset = 0;
    for (const r of new AgencySimulator({ seed: 7, count: 40, defectRate: 0, sources: { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' } }).records()) {
      const envelope = buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: 'it-staging' });
      const outcome = normaliseEnvelope(envelope, { topic: rawTopic(r.sourceId), partition: 0, offset: String(offset++) }, ctx);
      if (outcome.kind === 'canonical' && outcome.dataset === 'enforcement-case') {
        record = outcome.record as Rec;
        break;
      }
    }
    expect(record).toBeDefined();
    const awkward: Rec = {
      ...record!,
      case_id: `staging:${AWKWARD}`,
      violation_facts: AWKWARD,
      penalty_kinds: [AWKWARD, 'NULL', '', 'plain'],
      measures: [{ kind: AWKWARD, detail: 'x\u0001y 中文' }],
      warnings: [AWKWARD],
    };
    const table = CORE_TABLES['enforcement-case'];
    const result = await db.transaction((trx) => upsertRecords(trx, table, [awkward]));
    expect(result).toEqual({ versions: 1, current: 1 });

    const [row] = (await db.raw(`select violation_facts, penalty_kinds, measures, warnings, party_uscc from core.enforcement_case where case_id = ?`, [awkward.case_id])).rows;
    expect(row.violation_facts).toBe(AWKWARD);
    expect(row.penalty_kinds).toEqual([AWKWARD, 'NULL', '', 'plain']);
    expect(row.measures).toEqual(awkward.measures);
    expect(row.warnings).toEqual([AWKWARD]);
    expect(row.party_uscc).toBe(awkward.party.uscc ?? null);
    const [history] = (await db.raw(`select record from core.enforcement_case_history where case_id = ?`, [awkward.case_id])).rows;
    expect(history.record).toEqual(JSON.parse(JSON.stringify(awkward)));
    // The SQL in the text stayed text.
    const [{ exists }] = (await db.raw(`select to_regclass('core.party') is not null as exists`)).rows;
    expect(exists).toBe(true);
  });
});
