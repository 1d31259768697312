import { CORE_TABLES, CoreTable } from '../../../pipelines/warehouse/core-rows';
import { replaceViewStatement, retargetIndexDef, SINK_TABLES } from '../../../pipelines/warehouse/schema-copy';
import { partitionsBehind } from '../../../pipelines/warehouse/switch-over';
import { isoMicros, Micros } from '../../../pipelines/warehouse/copy-binary';
import { STAGED_COLUMNS, stagedVersion, stagingChunks, statementFor } from '../../../pipelines/warehouse/upsert-batch';
import { readBinaryCopy, timestamptzText } from '../../support/binary-copy';

/** The staging COPY data of the records, read back: per row its fields' bytes. */
const stagedRowsOf = (table: CoreTable, records: Array<Record<string, unknown>>, recordedAt?: Array<Micros | null>) =>
  readBinaryCopy(Buffer.concat([...stagingChunks(records.map((record) => stagedVersion(table, record)), recordedAt)]));

const offsets = (entries: Record<string, number>) => new Map(Object.entries(entries).map(([k, v]) => [k, BigInt(v)]));

describe('the switch of a rebuild', () => {
  const lows = offsets({ 'canonical.enforcement-case/0': 0, 'canonical.enforcement-case/1': 0, 'canonical.hotline-ticket/0': 5 });

  it('switches only when the rebuild is at or beyond the live consumer on every partition', () => {
    const live = offsets({ 'canonical.enforcement-case/0': 10, 'canonical.enforcement-case/1': 7, 'canonical.hotline-ticket/0': 9 });
    expect(partitionsBehind(offsets({ 'canonical.enforcement-case/0': 10, 'canonical.enforcement-case/1': 8, 'canonical.hotline-ticket/0': 9 }), live, lows)).toEqual([]);
    expect(partitionsBehind(offsets({ 'canonical.enforcement-case/0': 9, 'canonical.enforcement-case/1': 8, 'canonical.hotline-ticket/0': 8 }), live, lows)).toEqual([
      'canonical.enforcement-case/0',
      'canonical.hotline-ticket/0',
    ]);
  });

  it('counts a partition without a stored offset at its low watermark, where a sink without one starts', () => {
    // The live sink never stored hotline-ticket/0; the rebuild has not either: both are at the low watermark.
    expect(partitionsBehind(offsets({}), offsets({ 'canonical.hotline-ticket/0': 5 }), lows)).toEqual([]);
    expect(partitionsBehind(offsets({}), offsets({ 'canonical.hotline-ticket/0': 6 }), lows)).toEqual(['canonical.hotline-ticket/0']);
    expect(partitionsBehind(offsets({ 'canonical.hotline-ticket/0': 6 }), offsets({}), lows)).toEqual([]);
  });

  it('ignores live offsets of topics the rebuild does not replay', () => {
    expect(partitionsBehind(offsets({}), offsets({ 'canonical.retired/0': 1000 }), lows)).toEqual([]);
  });
});

describe('the copy of the warehouse tables', () => {
  it('retargets an index at the copy under the same name, keeping method, expressions and predicate', () => {
    const def = 'CREATE INDEX supervision_record_decision_nos_idx ON core.supervision_record USING gin (related_decision_nos) WHERE (kind <> \'OTHER\'::text)';
    expect(retargetIndexDef(def, { schema: 'core', table: 'supervision_record' }, 'core_next')).toBe(
      'CREATE INDEX supervision_record_decision_nos_idx ON core_next.supervision_record USING gin (related_decision_nos) WHERE (kind <> \'OTHER\'::text)',
    );
  });

  it('refuses an index definition it cannot retarget unambiguously', () => {
    expect(() => retargetIndexDef('CREATE INDEX x ON other.t USING btree (a)', { schema: 'core', table: 't' }, 'core_next')).toThrow(/cannot retarget/);
  });

  it('recreates a view from its definition with its options, so it keeps its identity and grants', () => {
    const statement = replaceViewStatement({ schema: 'mart', name: 'party_360', kind: 'v', options: ['security_barrier=true'], definition: ' SELECT p.party_key\n   FROM core.party p;' });
    expect(statement).toBe('create or replace view "mart"."party_360" with (security_barrier=true) as SELECT p.party_key\n   FROM core.party p');
  });

  it('knows every table the sink fills, which are the only ones a rebuild can reproduce', () => {
    expect(SINK_TABLES.core).toEqual(expect.arrayContaining(['enforcement_case', 'enforcement_case_history', 'hotline_ticket_history', 'supervision_record', 'party']));
    expect(SINK_TABLES.link).toEqual(['case_supervision', 'ticket_case', 'ticket_supervision']);
  });
});

describe('the upsert statement', () => {
  const table = CORE_TABLES['hotline-ticket'];

  it('names the schema it writes into, one cached statement per schema', () => {
    const live = statementFor(table);
    const next = statementFor(table, { core: 'core_next', link: 'link_next' });
    expect(live).toContain('"core"."hotline_ticket_history"');
    expect(live).not.toContain('core_next');
    expect(next).toContain('"core_next"."hotline_ticket_history"');
    expect(next).not.toMatch(/"core"\./);
    expect(statementFor(table)).toBe(live);
  });

  it('carries each record’s recorded time (its message’s timestamp) beside it, or null for the transaction time', () => {
    const records = [{ ticket_id: 'T1' }, { ticket_id: 'T2' }];
    const recordedAt = STAGED_COLUMNS.indexOf('recorded_at');
    const at = isoMicros('2025-06-01T00:00:01.000Z');
    const rows = stagedRowsOf(table, records, [at, null]);
    expect(rows.map((row) => row[STAGED_COLUMNS.indexOf('id')]!.toString())).toEqual(['T1', 'T2']);
    expect(rows.map((row) => row[recordedAt] && timestamptzText(row[recordedAt]!))).toEqual(['2025-06-01T00:00:01.000Z', null]);
    expect(stagedRowsOf(table, records).map((row) => row[recordedAt])).toEqual([null, null]);
    expect(() => stagedRowsOf(table, records, [at])).toThrow(RangeError);
  });
});
