import crypto from 'node:crypto';
import { Random } from '../../connectors/simulators/random';
import type { Knex } from 'knex';
import { RECORD_ID_FIELD } from '../../pipelines/normalise/canonical-fields';
import { contentHash, CORE_TABLES } from '../../pipelines/warehouse/core-rows';
import { partySeenSql } from '../../pipelines/warehouse/link-parties';
import type { Dataset } from '../../schemas/catalog';

/**
 * What the warehouse must hold after a given sequence of canonical messages, computed without
 * the sink's SQL, and the same state read back from PostgreSQL in the same shape, so a test
 * compares the two with one toEqual.
 *
 * A "group" is one party (its own credit code) with an enforcement case, a hotline ticket about
 * it and a supervision record citing the case; links therefore stay inside a group and are
 * known in advance. Every message carries a timestamp from the ledger's clock, which starts in
 * 2025: a warehouse that dated anything "today" would not match.
 */

type Rec = Record<string, any>;
const DATASETS: Dataset[] = ['enforcement-case', 'hotline-ticket', 'supervision-record'];
const HOUR = 3_600_000;

/** A seeded PRNG (the simulators' mulberry32): the test's draws are reproducible from the seed. */
function random(seed: number): () => number {
  const rng = new Random(seed);
  return () => rng.next();
}

export interface Send {
  dataset: Dataset;
  record: Rec;
  /** Kafka timestamp, ms. */
  timestamp: number;
}

export class Ledger {
  private clock = Date.parse('2025-06-01T00:00:00.000Z');
  private readonly rand = random(20261127);
  private readonly tag: string;
  /** Per dataset and id, every version learned (key: source_updated_at|content hash) with the time of its first message. */
  readonly learned = new Map<Dataset, Map<string, Map<string, { record: Rec; recordedAt: number }>>>(DATASETS.map((d) => [d, new Map()]));

  constructor(private readonly run: string) {
    this.tag = crypto.createHash('sha256').update(run).digest('hex').slice(0, 8).toUpperCase();
  }

  /** case, ticket, supervision record ids of group i. */
  ids(i: number): [string, string, string] {
    return [`${this.run}:CASE-${i}`, `${this.run}:TICKET-${i}`, `${this.run}:SUP-${i}`];
  }

  uscc(i: number): string {
    return `91${this.tag}${String(i).padStart(8, '0')}`;
  }

  partyKey(i: number): string {
    return `USCC:${this.uscc(i)}`;
  }

  /** Version k of every record of groups [from, to). */
  groups(from: number, to: number, versions: number[]): Array<{ dataset: Dataset; record: Rec }> {
    const out: Array<{ dataset: Dataset; record: Rec }> = [];
    for (let i = from; i < to; i++) for (const k of versions) for (const dataset of DATASETS) out.push({ dataset, record: this.record(dataset, i, k) });
    return out;
  }

  /** Shuffles (older versions often arrive late), adds exact re-sends, and gives each message the next tick of the clock. */
  stamp(items: Array<{ dataset: Dataset; record: Rec }>, options: { resends: number }): Send[] {
    const list = [...items];
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    for (let n = 0; n < options.resends; n++) list.splice(Math.floor(this.rand() * list.length), 0, list[Math.floor(this.rand() * list.length)]);
    return list.map(({ dataset, record }) => {
      this.clock += 1000;
      const id = record[RECORD_ID_FIELD[dataset]];
      const versions = this.learned.get(dataset)!;
      if (!versions.has(id)) versions.set(id, new Map());
      const key = `${record.source_updated_at}|${contentHash(record)}`;
      if (!versions.get(id)!.has(key)) versions.get(id)!.set(key, { record, recordedAt: this.clock });
      return { dataset, record, timestamp: this.clock };
    });
  }

  private record(dataset: Dataset, i: number, k: number): Rec {
    const [caseId, ticketId, recordId] = this.ids(i);
    const party = { kind: 'ORGANISATION', name: `酒泉第${i}号商贸有限公司`, uscc: this.uscc(i), id_hash: null, id_masked: null, region_code: '620902' };
    const decisionNo = `${this.run}:酒市监罚〔2025〕${i}号`;
    const at = new Date(Date.parse('2025-04-02T00:00:00.000Z') + k * HOUR).toISOString();
    const lineage = { source_id: 'it', raw_topic: 'raw.it', raw_partition: 0, raw_offset: i * 10 + k, ingested_at: at, normaliser_version: 'test' };
    const common = { region_code: '620902', source_updated_at: at, lineage, warnings: [`VERSION:${k}`] };
    switch (dataset) {
      case 'enforcement-case':
        return {
          case_id: caseId, agency_code: '11620900MB19512346', agency_name: '酒泉市市场监督管理局', domain: 'MARKET', action_type: 'PENALTY', decision_no: decisionNo, party,
          violation_type: '销售假冒注册商标的商品', violation_facts: null, legal_basis: null, penalty_kinds: ['FINE'], fine_amount: `${80000 + k}.00`, confiscated_amount: null,
          measures: [], occurred_on: '2025-03-01', decided_on: '2025-04-01', status: 'DECIDED', transferred_to_police: false, transferred_on: null, ...common,
        };
      case 'hotline-ticket':
        return {
          ticket_id: ticketId, channel: 'PHONE', received_at: '2025-04-10T02:00:00.000Z', appeal_type: 'COMPLAINT', category_code: null, category_name: null, topics: [],
          title: `反映第${i}号公司售假 (v${k})`, content: null, caller_name_masked: '张**', caller_phone_hash: null, caller_phone_masked: null, address: null, subject: party,
          handling_unit: null, dispatched_at: null, due_at: null, status: 'CLOSED', closed_at: null, satisfaction: 'SATISFIED', related_ticket_ids: [], ...common,
        };
      case 'supervision-record':
        return {
          record_id: recordId, procuratorate_code: '11620900013905600W', kind: 'TRANSFER_OPINION', doc_no: `酒检意〔2025〕${i}号`, target_agency_code: '11620900MB19512346',
          // i % 3: cites the decision number and the case id, the case id only, the decision number only.
          related_decision_nos: i % 3 === 1 ? [] : [decisionNo], related_case_ids: i % 3 === 2 ? [] : [caseId], related_ticket_ids: i % 2 === 0 ? [ticketId] : [],
          party, summary: `第${i}号 (v${k})`, issued_on: '2025-04-20', reply_due_on: '2025-05-20', replied_on: null, status: 'AWAITING_REPLY', ...common,
        };
    }
  }
}

export interface WarehouseState {
  current: Record<string, string[]>;
  history: Record<string, string[]>;
  party: string[];
  links: Record<string, string[]>;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** The column a "model change" corrupts, per dataset, compared besides content and versions. */
const DETAIL: Record<Dataset, string> = { 'enforcement-case': 'fine_amount', 'hotline-ticket': 'title', 'supervision-record': 'summary' };

export function expectedWarehouse(ledger: Ledger): WarehouseState {
  const state: WarehouseState = { current: {}, history: {}, party: [], links: { case_supervision: [], ticket_case: [], ticket_supervision: [] } };
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const dataset of DATASETS) {
    const current: string[] = [];
    const history: string[] = [];
    for (const [id, versions] of ledger.learned.get(dataset)!) {
      const all = [...versions.values()];
      for (const v of all) history.push(`${id}|${v.record.source_updated_at}|${contentHash(v.record)}|${iso(v.recordedAt)}`);
      const newest = all.reduce((a, b) => (Date.parse(b.record.source_updated_at) > Date.parse(a.record.source_updated_at) ? b : a));
      const r = newest.record;
      current.push(`${id}|${r.source_updated_at}|${contentHash(r)}|${iso(newest.recordedAt)}|${r.warnings.join(',')}|${r[DETAIL[dataset]]}`);
      first.set(id, Math.min(...all.map((v) => v.recordedAt)));
      last.set(id, Math.max(...all.map((v) => v.recordedAt)));
    }
    state.current[dataset] = current.sort();
    state.history[dataset] = history.sort();
  }
  const groups = new Set([...ledger.learned.get('enforcement-case')!.keys()].map((id) => Number(id.slice(id.lastIndexOf('-') + 1))));
  for (const i of groups) {
    const [c, t, s] = ledger.ids(i);
    const name = ledger.learned.get('enforcement-case')!.get(c)!.values().next().value!.record.party.name;
    state.party.push(`${ledger.partyKey(i)}|ORGANISATION|${name}|${ledger.uscc(i)}|620902|high|${iso(Math.min(first.get(c)!, first.get(t)!, first.get(s)!))}|${iso(Math.max(last.get(c)!, last.get(t)!, last.get(s)!))}`);
    const at = (a: string, b: string) => iso(Math.max(first.get(a)!, first.get(b)!));
    state.links.case_supervision.push(`${c}|${s}|${i % 3 === 1 ? 'case_id' : 'decision_no'}|${at(c, s)}`);
    state.links.ticket_case.push(`${t}|${c}|uscc|${at(t, c)}`);
    state.links.ticket_supervision.push(`${t}|${s}|${i % 2 === 0 ? 'cited' : 'party'}|${at(t, s)}`);
  }
  state.party.sort();
  for (const lines of Object.values(state.links)) lines.sort();
  return state;
}

const when = (d: Date) => d.toISOString();

export async function readWarehouse(db: Knex): Promise<WarehouseState> {
  const state: WarehouseState = { current: {}, history: {}, party: [], links: {} };
  for (const dataset of DATASETS) {
    const { table, idColumn } = CORE_TABLES[dataset];
    const current = await db(`core.${table}`).select({ id: idColumn }, 'source_updated_at', 'content_hash', 'recorded_at', 'warnings', db.raw(`${DETAIL[dataset]}::text as detail`));
    state.current[dataset] = current.map((r) => `${r.id}|${when(r.source_updated_at)}|${r.content_hash}|${when(r.recorded_at)}|${r.warnings.join(',')}|${r.detail}`).sort();
    const history = await db(`core.${table}_history`).select({ id: idColumn }, 'source_updated_at', 'content_hash', 'recorded_at');
    state.history[dataset] = history.map((r) => `${r.id}|${when(r.source_updated_at)}|${r.content_hash}|${when(r.recorded_at)}`).sort();
  }
  const { rows: party } = await db.raw(`select p.*, seen.* from core.party p cross join lateral (${partySeenSql(Object.values(CORE_TABLES), 'p.party_key')}) seen`);
  state.party = party.map((p: Rec) => `${p.party_key}|${p.kind}|${p.name}|${p.uscc}|${p.region_code}|${p.confidence}|${when(p.first_seen)}|${when(p.last_seen)}`).sort();
  for (const [table, a, b] of [['case_supervision', 'case_id', 'record_id'], ['ticket_case', 'ticket_id', 'case_id'], ['ticket_supervision', 'ticket_id', 'record_id']]) {
    const rows = await db(`link.${table}`).select(a, b, 'via', 'linked_at');
    state.links[table] = rows.map((r) => `${r[a]}|${r[b]}|${r.via}|${when(r.linked_at)}`).sort();
  }
  return state;
}

/** Columns (order, type, nullability, defaults, generated), constraints, indexes and privileges of core and link, as text. */
export async function readStructure(db: Knex): Promise<string[]> {
  const { rows } = await db.raw<{ rows: Array<{ line: string }> }>(`
    select n.nspname || '.' || c.relname || ' #' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || case when a.attnotnull then ' not null' else '' end || case a.attgenerated when 's' then ' generated' else '' end
           || coalesce(' = ' || pg_get_expr(d.adbin, d.adrelid), '') as line
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where n.nspname in ('core', 'link') and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
    union all
    select n.nspname || '.' || c.relname || ' constraint ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
      from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('core', 'link')
    union all
    select pg_get_indexdef(i.indexrelid) from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('core', 'link')
    union all
    select n.nspname || '.' || c.relname || ' acl ' || coalesce(c.relacl::text, '-')
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('core', 'link') and c.relkind = 'r'
    union all
    select n.nspname || ' acl ' || coalesce(n.nspacl::text, '-') || ' ' || coalesce(obj_description(n.oid, 'pg_namespace'), '') from pg_namespace n where n.nspname in ('core', 'link')`);
  return rows.map((r) => r.line).sort();
}
