import type { Knex } from 'knex';
import type { Dataset } from '../normalise/canonical-fields';
import type { CoreTable } from './core-rows';

/**
 * Entity resolution and cross-source links for the records a batch touched, inside the
 * batch's transaction. Every statement joins from the touched side, so a link is made
 * whichever of its two records arrives first: the second one finds the first.
 */
const PARTY_PREFIX: Record<Dataset, string> = { 'enforcement-case': 'party', 'hotline-ticket': 'subject', 'supervision-record': 'party' };

/** The parties of the touched records, newest facts first; a party without code or ID hash is low confidence. */
async function resolveParties(trx: Knex.Transaction, table: CoreTable, ids: string[]): Promise<void> {
  const p = PARTY_PREFIX[table.dataset];
  await trx.raw(
    `insert into core.party as cur (party_key, kind, name, uscc, id_hash, id_masked, region_code, confidence)
     select distinct on (party_key) party_key, ${p}_kind, ${p}_name, ${p}_uscc, ${p}_id_hash, ${p}_id_masked, ${p}_region_code,
            case when ${p}_uscc is not null or ${p}_id_hash is not null then 'high' else 'low' end
     from core.${table.table}
     where ${table.idColumn} = any(?) and party_key is not null
     order by party_key, source_updated_at desc
     on conflict (party_key) do update set
       kind = case when excluded.kind = 'UNKNOWN' then cur.kind else excluded.kind end,
       name = coalesce(excluded.name, cur.name), id_masked = coalesce(excluded.id_masked, cur.id_masked),
       region_code = coalesce(excluded.region_code, cur.region_code), last_seen = now()`,
    [ids],
  );
}

const CASE_SUPERVISION = (filter: string) => `
  insert into link.case_supervision (case_id, record_id, via)
  select c.case_id, s.record_id, 'decision_no' from core.enforcement_case c
    join core.supervision_record s on c.decision_no is not null and s.related_decision_nos @> array[c.decision_no]
    where ${filter}
  union
  select c.case_id, s.record_id, 'case_id' from core.enforcement_case c
    join core.supervision_record s on s.related_case_ids @> array[c.case_id]
    where ${filter}
  on conflict do nothing`;

// A complaint and a penalty about the same subject, in the same region, close in time.
const TICKET_CASE = (filter: string) => `
  insert into link.ticket_case (ticket_id, case_id, via)
  select t.ticket_id, c.case_id, case when c.party_key like 'USCC:%' then 'uscc' else 'party' end
  from core.hotline_ticket t
  join core.enforcement_case c on c.party_key = t.party_key
  where ${filter}
    and (t.region_code is null or c.region_code is null or t.region_code = c.region_code)
    and abs(coalesce(c.decided_on, c.occurred_on, (c.source_updated_at at time zone 'Asia/Shanghai')::date) - (t.received_at at time zone 'Asia/Shanghai')::date) <= ?
  on conflict do nothing`;

// 12345 ↔ 12309: a supervision record that cites the ticket, or one about the same party in the window.
const TICKET_SUPERVISION = (filter: string) => `
  insert into link.ticket_supervision (ticket_id, record_id, via)
  select t.ticket_id, s.record_id, 'cited' from core.hotline_ticket t
    join core.supervision_record s on s.related_ticket_ids @> array[t.ticket_id]
    where ${filter}
  union
  select t.ticket_id, s.record_id, 'party' from core.hotline_ticket t
    join core.supervision_record s on s.party_key = t.party_key
    where ${filter}
      and abs(coalesce(s.issued_on, (s.source_updated_at at time zone 'Asia/Shanghai')::date) - (t.received_at at time zone 'Asia/Shanghai')::date) <= ?
  on conflict do nothing`;

/** Resolves parties and (re)links the records of one dataset that the batch touched. */
export async function linkTouched(trx: Knex.Transaction, table: CoreTable, ids: string[], windowDays: number): Promise<void> {
  if (ids.length === 0) return;
  await resolveParties(trx, table, ids);
  switch (table.dataset) {
    case 'enforcement-case':
      await trx.raw(CASE_SUPERVISION('c.case_id = any(?)'), [ids, ids]);
      await trx.raw(TICKET_CASE('c.case_id = any(?)'), [ids, windowDays]);
      break;
    case 'supervision-record':
      await trx.raw(CASE_SUPERVISION('s.record_id = any(?)'), [ids, ids]);
      await trx.raw(TICKET_SUPERVISION('s.record_id = any(?)'), [ids, ids, windowDays]);
      break;
    case 'hotline-ticket':
      await trx.raw(TICKET_CASE('t.ticket_id = any(?)'), [ids, windowDays]);
      await trx.raw(TICKET_SUPERVISION('t.ticket_id = any(?)'), [ids, ids, windowDays]);
      break;
  }
}
