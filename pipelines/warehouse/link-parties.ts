import type { Knex } from 'knex';
import type { Dataset } from '../normalise/canonical-fields';
import type { CoreTable } from './core-rows';
import { sendStatements, textArrayLiteral, textLiteral } from './statement-batch';
import { LIVE_TARGET, qualified, WarehouseTarget } from './warehouse-target';

/**
 * Entity resolution and cross-source links for the records a batch touched, inside the
 * batch's transaction. Every statement joins from the touched side, so a link is made
 * whichever of its two records arrives first: the second one finds the first.
 *
 * Times come from the records' recorded times in history (when the hub learned them), never
 * from the clock of the process applying them: a link is dated when the later of its two
 * records was first learned, and a party is first and last seen when the records that name it
 * were (read from their history, `partySeenSql`). A rebuild that replays the topics today
 * therefore dates parties and links as the live sink did.
 */
const PARTY_PREFIX: Record<Dataset, string> = { 'enforcement-case': 'party', 'hotline-ticket': 'subject', 'supervision-record': 'party' };

/**
 * When the hub first and last learned of a party: the earliest and latest recorded time in the
 * history of the records that name it now, in the tables given. One row (first_seen,
 * last_seen), both null when none of those records names it. `partyKey` is the SQL that gives
 * the key: a binding (`:party_key`) or a column of an outer query for a lateral join.
 *
 * Read, not stored: nearly every batch that names a party would move its last_seen, and
 * rewriting the party's row for that was a fifth of the sink's statement time.
 */
export function partySeenSql(tables: readonly CoreTable[], partyKey: string, target: WarehouseTarget = LIVE_TARGET): string {
  const seen = tables.map(
    (t) => `select min(h.recorded_at) as first_seen, max(h.recorded_at) as last_seen
      from ${qualified(target.core, t.table)} r join ${qualified(target.core, `${t.table}_history`)} h on h.${t.idColumn} = r.${t.idColumn}
      where r.party_key = ${partyKey}`,
  );
  if (seen.length === 0) return 'select null::timestamptz as first_seen, null::timestamptz as last_seen';
  return `select min(s.first_seen) as first_seen, max(s.last_seen) as last_seen from (${seen.join('\n      union all ')}) s`;
}

/** When the hub first learned any version of a record: the earliest recorded time in its history. */
const firstLearned = (w: WarehouseTarget, table: string, id: string, alias: string) =>
  `(select min(h.recorded_at) from ${qualified(w.core, `${table}_history`)} h where h.${id} = ${alias}.${id})`;

/**
 * `from <touched> cross join lateral (<lookup> offset 0)`: the touched rows drive, and each
 * looks its partners up through an index. `offset 0` keeps the planner from flattening the
 * lookup into a join it may turn around: on a large table with statistics that lag the
 * load, it chose a sequential scan of the whole other table for a handful of touched rows.
 */
const lookup = (sql: string) => `cross join lateral (${sql} offset 0)`;

/**
 * The parties of the touched records, newest facts first; a party without code or ID hash is low
 * confidence. Written only where the batch brings a party that is new or facts that change it:
 * most touched records name a party the warehouse already holds as they say it, and rewriting
 * its row would cost an update, its WAL and an index entry per touched party. When the hub first
 * and last learned of a party is not stored but read from its records' history (`partySeenSql`).
 *
 * Needs no link turn: a party two batches both insert is written by the first, and the second's
 * insert waits for its commit and then updates the committed row if its facts still differ.
 * Both take the rows in party_key order, so two such statements never wait on each other in a cycle.
 */
export function partiesSql(table: CoreTable, ids: readonly string[], target: WarehouseTarget = LIVE_TARGET): string {
  const p = PARTY_PREFIX[table.dataset];
  const id = table.idColumn;
  const party = qualified(target.core, 'party');
  return `insert into ${party} as cur (party_key, kind, name, uscc, id_hash, id_masked, region_code, confidence)
     select n.* from (
       select distinct on (r.party_key) r.party_key, r.${p}_kind as kind, r.${p}_name as name, r.${p}_uscc as uscc, r.${p}_id_hash as id_hash,
              r.${p}_id_masked as id_masked, r.${p}_region_code as region_code,
              case when r.${p}_uscc is not null or r.${p}_id_hash is not null then 'high' else 'low' end as confidence
       from unnest(${textArrayLiteral(ids)}::text[]) as k(id)
       ${lookup(`select r.* from ${qualified(target.core, table.table)} r where r.${id} = k.id`)} r
       where r.party_key is not null
       order by r.party_key, r.source_updated_at desc
     ) n
     left join lateral (select cur.* from ${party} cur where cur.party_key = n.party_key offset 0) cur on true
     where cur.party_key is null or ${partyChanges('n', 'cur')}
     order by n.party_key
     on conflict (party_key) do update set ${FACTS.map(([column, has]) => `${column} = case when ${has('excluded')} then excluded.${column} else cur.${column} end`).join(', ')}
     where ${partyChanges('excluded', 'cur')}`;
}

/**
 * The facts a record brings to its party's row, each with when a record has it: a known kind, a
 * name, a masked ID, a region. A fact the record lacks leaves the row's as it is.
 */
const FACTS: ReadonlyArray<readonly [column: string, has: (row: string) => string]> = [
  ['kind', (row) => `${row}.kind <> 'UNKNOWN'`],
  ['name', (row) => `${row}.name is not null`],
  ['id_masked', (row) => `${row}.id_masked is not null`],
  ['region_code', (row) => `${row}.region_code is not null`],
];

/** Whether the facts of `incoming` change party row `cur` as the upsert sets them. */
const partyChanges = (incoming: string, cur: string) =>
  `(${FACTS.map(([column, has]) => `(${has(incoming)} and ${incoming}.${column} is distinct from ${cur}.${column})`).join(' or ')})`;

/**
 * The link statements, one per link table and per side the batch touched. Each branch is written
 * so that the touched side drives an index: `@>` against a GIN index from a case or ticket to the
 * supervision records citing it, and from a supervision record the ids it cites unnested and
 * looked up by primary key or decision number. Never `cited && :ids` over the whole table:
 * array overlap compares every element with every touched id, row by row, so its cost grows
 * with the table times the batch.
 *
 * A pair found by two branches keeps one `via`, the same whatever the order of arrival:
 * decision_no before case_id, cited before party. Pairs already linked are set aside before
 * their date is looked up in history: most pairs a batch finds are old ones. Each pair is
 * looked up by the link table's key (`offset 0` keeps it a probe per pair, not a join that
 * reads and sorts the whole link table every batch).
 */
type Side = readonly [column: string, table: string];
type Branch = (w: WarehouseTarget) => string;
const C = (w: WarehouseTarget) => `${qualified(w.core, 'enforcement_case')} c`;
const S = (w: WarehouseTarget) => `${qualified(w.core, 'supervision_record')} s`;
const T = (w: WarehouseTarget) => `${qualified(w.core, 'hotline_ticket')} t`;
const CASE: Side = ['case_id', 'enforcement_case'];
const TICKET: Side = ['ticket_id', 'hotline_ticket'];
const RECORD: Side = ['record_id', 'supervision_record'];

/** Each branch selects (a, b, via); a new link is dated when the later of its two records was first learned. */
const insertLinks = (w: WarehouseTarget, table: string, a: Side, b: Side, branches: Branch[], viaOrder: 'asc' | 'desc') => `
  insert into ${qualified(w.link, table)} (${a[0]}, ${b[0]}, via, linked_at)
  select pair.${a[0]}, pair.${b[0]}, pair.via,
         coalesce(greatest(${firstLearned(w, a[1], a[0], 'pair')}, ${firstLearned(w, b[1], b[0], 'pair')}), now())
  from (
    select distinct on (${a[0]}, ${b[0]}) * from (${branches.map((branch) => branch(w)).join('\n      union\n')}
    ) found order by ${a[0]}, ${b[0]}, via ${viaOrder}
  ) pair
  where not exists (select from ${qualified(w.link, table)} l where l.${a[0]} = pair.${a[0]} and l.${b[0]} = pair.${b[0]} offset 0)
  on conflict do nothing`;

// A supervision record that cites a case by its decision number or its case id.
const CASE_SUPERVISION_FROM_CASES = (w: WarehouseTarget) =>
  insertLinks(w, 'case_supervision', CASE, RECORD, [
    (x) => `select c.case_id, s.record_id, 'decision_no' as via from ${C(x)}
            ${lookup(`select s.record_id from ${S(x)} where s.related_decision_nos @> array[c.decision_no]`)} s
            where c.case_id = any(:ids) and c.decision_no is not null`,
    (x) => `select k.case_id, s.record_id, 'case_id' from unnest(:ids::text[]) as k(case_id)
            ${lookup(`select s.record_id from ${S(x)} where s.related_case_ids @> array[k.case_id]`)} s`,
  ], 'desc');
const CASE_SUPERVISION_FROM_RECORDS = (w: WarehouseTarget) =>
  insertLinks(w, 'case_supervision', CASE, RECORD, [
    (x) => `select c.case_id, s.record_id, 'decision_no' as via from ${S(x)} cross join lateral unnest(s.related_decision_nos) as cited(decision_no)
            ${lookup(`select c.case_id from ${C(x)} where c.decision_no = cited.decision_no`)} c
            where s.record_id = any(:ids)`,
    (x) => `select c.case_id, s.record_id, 'case_id' from ${S(x)} cross join lateral unnest(s.related_case_ids) as cited(case_id)
            ${lookup(`select c.case_id from ${C(x)} where c.case_id = cited.case_id`)} c
            where s.record_id = any(:ids)`,
  ], 'desc');

// A complaint and a penalty about the same subject, in the same region, close in time.
const NEAR_CASE = `(t.region_code is null or c.region_code is null or t.region_code = c.region_code)
              and abs(coalesce(c.decided_on, c.occurred_on, (c.source_updated_at at time zone 'Asia/Shanghai')::date) - (t.received_at at time zone 'Asia/Shanghai')::date) <= :window`;
const VIA_PARTY = `case when c.party_key like 'USCC:%' then 'uscc' else 'party' end`;
const TICKET_CASE_FROM_TICKETS = (w: WarehouseTarget) =>
  insertLinks(w, 'ticket_case', TICKET, CASE, [
    (x) => `select t.ticket_id, c.case_id, ${VIA_PARTY} as via from ${T(x)}
            ${lookup(`select c.case_id, c.party_key from ${C(x)} where c.party_key = t.party_key and ${NEAR_CASE}`)} c
            where t.ticket_id = any(:ids)`,
  ], 'asc');
const TICKET_CASE_FROM_CASES = (w: WarehouseTarget) =>
  insertLinks(w, 'ticket_case', TICKET, CASE, [
    (x) => `select t.ticket_id, c.case_id, ${VIA_PARTY} as via from ${C(x)}
            ${lookup(`select t.ticket_id from ${T(x)} where t.party_key = c.party_key and ${NEAR_CASE}`)} t
            where c.case_id = any(:ids)`,
  ], 'asc');

// 12345 ↔ 12309: a supervision record that cites the ticket, or one about the same party in the window.
const NEAR_RECORD = `abs(coalesce(s.issued_on, (s.source_updated_at at time zone 'Asia/Shanghai')::date) - (t.received_at at time zone 'Asia/Shanghai')::date) <= :window`;
const TICKET_SUPERVISION_FROM_TICKETS = (w: WarehouseTarget) =>
  insertLinks(w, 'ticket_supervision', TICKET, RECORD, [
    (x) => `select t.ticket_id, s.record_id, 'cited' as via from ${T(x)}
            ${lookup(`select s.record_id from ${S(x)} where s.related_ticket_ids @> array[t.ticket_id]`)} s
            where t.ticket_id = any(:ids)`,
    (x) => `select t.ticket_id, s.record_id, 'party' from ${T(x)}
            ${lookup(`select s.record_id from ${S(x)} where s.party_key = t.party_key and ${NEAR_RECORD}`)} s
            where t.ticket_id = any(:ids)`,
  ], 'asc');
const TICKET_SUPERVISION_FROM_RECORDS = (w: WarehouseTarget) =>
  insertLinks(w, 'ticket_supervision', TICKET, RECORD, [
    (x) => `select t.ticket_id, s.record_id, 'cited' as via from ${S(x)} cross join lateral unnest(s.related_ticket_ids) as cited(ticket_id)
            ${lookup(`select t.ticket_id from ${T(x)} where t.ticket_id = cited.ticket_id`)} t
            where s.record_id = any(:ids)`,
    (x) => `select t.ticket_id, s.record_id, 'party' from ${S(x)}
            ${lookup(`select t.ticket_id from ${T(x)} where t.party_key = s.party_key and ${NEAR_RECORD}`)} t
            where s.record_id = any(:ids)`,
  ], 'asc');

/** The tokens the link statements are written with, replaced by literals when they are built. */
const IDS = /:ids\b/g;
const WINDOW = /:window\b/g;

/** The link statements of one dataset's touched records, oldest link table first. */
export function linkSql(table: CoreTable, ids: readonly string[], windowDays: number, target: WarehouseTarget = LIVE_TARGET): string[] {
  if (!Number.isInteger(windowDays) || windowDays < 0) throw new RangeError(`link window ${windowDays} is not a whole number of days`);
  const statements = {
    'enforcement-case': [CASE_SUPERVISION_FROM_CASES, TICKET_CASE_FROM_CASES],
    'supervision-record': [CASE_SUPERVISION_FROM_RECORDS, TICKET_SUPERVISION_FROM_RECORDS],
    'hotline-ticket': [TICKET_CASE_FROM_TICKETS, TICKET_SUPERVISION_FROM_TICKETS],
  }[table.dataset];
  const idList = textArrayLiteral(ids);
  // The window first: the ids' literal, put in last, is never scanned for a token.
  return statements.map((statement) => statement(target).replace(WINDOW, String(windowDays)).replace(IDS, () => idList));
}

/**
 * Waits for this transaction's turn to write links, and keeps it until commit. Links are
 * shared by every partition: two batches applied at once (by one sink or by two hubs) could
 * otherwise each look for the other's record before it was committed, and a case and the
 * opinion citing it would never be linked. Taken after the batch's own rows and parties are
 * written, so a link statement sees every batch that committed before it. Always in that
 * order: a transaction holding the turn never waits for a party row another one holds.
 */
export const linkTurnSql = (target: WarehouseTarget = LIVE_TARGET): string =>
  `select pg_advisory_xact_lock(hashtext(${textLiteral(`liandong.warehouse.links:${target.core}`)}))`;

/** The steps after a batch's merge, named as the sink times them. */
export type LinkingStep = 'parties' | 'link_wait' | 'links';

/**
 * Resolves the parties of one dataset's touched records, takes the link turn and (re)links
 * them: the statements of each step, in the one order every writer uses.
 */
export function linkingSteps(table: CoreTable, ids: readonly string[], windowDays: number, target: WarehouseTarget = LIVE_TARGET): Array<[LinkingStep, string[]]> {
  return [
    ['parties', [partiesSql(table, ids, target)]],
    ['link_wait', [linkTurnSql(target)]],
    ['links', linkSql(table, ids, windowDays, target)],
  ];
}

/** `linkingSteps` in one round trip, in the caller's transaction. */
export async function linkTouched(trx: Knex.Transaction, table: CoreTable, ids: string[], windowDays: number, target: WarehouseTarget = LIVE_TARGET): Promise<void> {
  if (ids.length === 0) return;
  await sendStatements(trx, linkingSteps(table, ids, windowDays, target).flatMap(([, statements]) => statements));
}
