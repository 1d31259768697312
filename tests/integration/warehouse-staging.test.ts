import type { Knex } from 'knex';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { loadSources } from '../../pipelines/normalise/mapping';
import { normaliseContext } from '../../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { CORE_TABLES } from '../../pipelines/warehouse/core-rows';
import { linkTouched } from '../../pipelines/warehouse/link-parties';
import { upsertRecords } from '../../pipelines/warehouse/upsert-batch';
import { rawTopic } from '../../schemas/catalog';
import { HOTLINE_TICKET } from '../unit/schemas/samples';
import { FreshDatabase, freshDatabase } from '../support/warehouse';
import { SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';

type Rec = Record<string, any>;

/** Text that COPY's format, array literals and JSON each give a meaning to. */
const AWKWARD = 'tab\there, line\nbreak, cr\rhere, back\\slash, \\N, "quoted", {braced}, comma,; ?, $1, :ids, \'; drop table core.party; --';

describe('the staging load (binary COPY into a temporary table, then merge)', () => {
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

    // The same id written into the parties' and links' statements as a literal (they take no parameters).
    await db.transaction((trx) => linkTouched(trx, table, [awkward.case_id], config.warehouse.link_window_days));
    const [party] = (await db.raw(`select p.party_key from core.party p join core.enforcement_case c using (party_key) where c.case_id = ?`, [awkward.case_id])).rows;
    expect(party?.party_key).toBeDefined();
  });

  it('makes current the version last seen in the batch among those of the same source time, and keeps each version once', async () => {
    const table = CORE_TABLES['hotline-ticket'];
    const at = '2025-06-01T00:00:00.000Z';
    const ticket = (id: string, title: string) => ({ ...HOTLINE_TICKET, ticket_id: id, title, source_updated_at: at }) as Rec;
    const id = `staging-tie-${Date.now()}`;
    const [a, b] = [ticket(id, 'A'), ticket(id, 'B')];
    const resent = { ...a, lineage: { ...a.lineage, raw_offset: a.lineage.raw_offset + 100 } };
    const times = ['2025-06-01T00:00:01.000Z', '2025-06-01T00:00:02.000Z', '2025-06-01T00:00:03.000Z'];
    // A, then B, then A re-sent from another raw offset: A was seen last, and is as it was first learned.
    const result = await db.transaction((trx) => upsertRecords(trx, table, [a, b, resent], { recordedAt: times }));
    expect(result).toEqual({ versions: 2, current: 1 });
    const [row] = (await db.raw(`select title, recorded_at, lineage_raw_offset from core.hotline_ticket where ticket_id = ?`, [id])).rows;
    expect({ title: row.title, recorded_at: row.recorded_at.toISOString(), raw_offset: Number(row.lineage_raw_offset) }).toEqual({
      title: 'A',
      recorded_at: times[0],
      raw_offset: a.lineage.raw_offset,
    });
    const history = (await db.raw(`select record->>'title' as title, recorded_at from core.hotline_ticket_history where ticket_id = ? order by recorded_at`, [id])).rows;
    expect(history.map((h: Rec) => [h.title, h.recorded_at.toISOString()])).toEqual([['A', times[0]], ['B', times[1]]]);
  });

  it('reads a missing or null nested record as null columns', async () => {
    const table = CORE_TABLES['hotline-ticket'];
    const base = { ...HOTLINE_TICKET, source_updated_at: '2025-06-01T00:00:00.000Z' } as Rec;
    const withNull = { ...base, ticket_id: `staging-null-${Date.now()}`, subject: null };
    const withoutSubject: Rec = { ...base, ticket_id: `staging-missing-${Date.now()}` };
    delete withoutSubject.subject;
    await db.transaction((trx) => upsertRecords(trx, table, [withNull, withoutSubject]));
    const rows = (await db.raw(`select ticket_id, subject_kind, subject_name, subject_uscc, lineage_source_id from core.hotline_ticket where ticket_id in (?, ?) order by ticket_id`, [withNull.ticket_id, withoutSubject.ticket_id])).rows;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect([row.subject_kind, row.subject_name, row.subject_uscc]).toEqual([null, null, null]);
      expect(row.lineage_source_id).toBe(base.lineage.source_id);
    }
  });
});
