import type { Knex } from 'knex';

/**
 * Resolved parties, cross-source links, the analysts' views and the roles.
 *
 * A party's key: its credit code (organisations), its ID hash (individuals), or — without
 * either — its normalised name within its region, flagged low confidence. Every core table
 * derives its `party_key` the same way (a generated column), so joins need no lookup.
 */
const PARTY_KEY = (p: string) => `(case
  when ${p}_uscc is not null then 'USCC:' || ${p}_uscc
  when ${p}_id_hash is not null then 'ID:' || ${p}_id_hash
  when ${p}_name is not null then 'NAME:' || coalesce(${p}_region_code, '') || ':' || lower(regexp_replace(${p}_name, '\\s', '', 'g'))
end)`;

export const ANALYST_ROLE = 'liandong_analyst';
export const HUB_ROLE = 'liandong_hub';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table core.enforcement_case add column party_key text generated always as ${PARTY_KEY('party')} stored`);
  await knex.raw(`alter table core.hotline_ticket add column party_key text generated always as ${PARTY_KEY('subject')} stored`);
  await knex.raw(`alter table core.supervision_record add column party_key text generated always as ${PARTY_KEY('party')} stored`);
  for (const t of ['enforcement_case', 'hotline_ticket', 'supervision_record']) await knex.raw(`create index ${t}_party_key_idx on core.${t} (party_key)`);
  await knex.raw(`create index supervision_record_decision_nos_idx on core.supervision_record using gin (related_decision_nos)`);
  await knex.raw(`create index supervision_record_ticket_ids_idx on core.supervision_record using gin (related_ticket_ids)`);

  await knex.raw(`create table core.party (
    party_key text primary key,
    kind text not null,
    name text,
    uscc text,
    id_hash text,
    id_masked text,
    region_code text,
    confidence text not null check (confidence in ('high', 'low')),
    first_seen timestamptz not null default now(),
    last_seen timestamptz not null default now()
  )`);

  await knex.raw(`create table link.case_supervision (
    case_id text not null, record_id text not null, via text not null, linked_at timestamptz not null default now(),
    primary key (case_id, record_id))`);
  await knex.raw(`create table link.ticket_case (
    ticket_id text not null, case_id text not null, via text not null, linked_at timestamptz not null default now(),
    primary key (ticket_id, case_id))`);
  await knex.raw(`create table link.ticket_supervision (
    ticket_id text not null, record_id text not null, via text not null, linked_at timestamptz not null default now(),
    primary key (ticket_id, record_id))`);
  await knex.raw(`create index case_supervision_record_idx on link.case_supervision (record_id)`);
  await knex.raw(`create index ticket_case_case_idx on link.ticket_case (case_id)`);

  // Analysts' views: masked forms only; no hashes, no free text that was not masked at the source.
  await knex.raw(`create view mart.party_360 as
    select p.party_key, p.kind as party_kind, p.name as party_name, p.uscc as party_uscc, p.id_masked as party_id_masked,
           p.region_code as party_region_code, p.confidence, x.record_type, x.record_id, x.event_date, x.title, x.status, x.amount, x.source_id
    from core.party p
    join (
      select party_key, 'enforcement-case' as record_type, case_id as record_id, coalesce(decided_on, occurred_on) as event_date,
             coalesce(violation_type, decision_no) as title, status, fine_amount as amount, lineage_source_id as source_id
        from core.enforcement_case
      union all
      select party_key, 'hotline-ticket', ticket_id, (received_at at time zone 'Asia/Shanghai')::date, title, status, null::numeric, lineage_source_id
        from core.hotline_ticket
      union all
      select party_key, 'supervision-record', record_id, issued_on, coalesce(doc_no, kind), status, null::numeric, lineage_source_id
        from core.supervision_record
    ) x on x.party_key = p.party_key`);

  await knex.raw(`create view mart.case_timeline as
    select c.case_id, c.decision_no, c.party_key, e.event, e.event_date, e.detail
    from core.enforcement_case c
    cross join lateral (values
      ('OFFENCE', c.occurred_on, c.violation_type),
      ('PENALTY', c.decided_on, c.status),
      ('TRANSFER', c.transferred_on, case when c.transferred_to_police then 'transferred to the police' end)
    ) as e(event, event_date, detail)
    where e.event_date is not null
    union all
    select l.case_id, c.decision_no, c.party_key, 'SUPERVISION:' || s.kind, s.issued_on, s.doc_no
    from link.case_supervision l join core.enforcement_case c using (case_id) join core.supervision_record s using (record_id)
    where s.issued_on is not null
    union all
    select l.case_id, c.decision_no, c.party_key, 'SUPERVISION_REPLY', s.replied_on, s.doc_no
    from link.case_supervision l join core.enforcement_case c using (case_id) join core.supervision_record s using (record_id)
    where s.replied_on is not null`);

  await knex.raw(`create view mart.suggestion_tracking as
    select record_id, kind, doc_no, procuratorate_code, target_agency_code, party_key, region_code, issued_on, reply_due_on, replied_on, status,
           case when replied_on is null and reply_due_on is not null then reply_due_on - (now() at time zone 'Asia/Shanghai')::date end as days_left,
           case when replied_on is null and reply_due_on < (now() at time zone 'Asia/Shanghai')::date then (now() at time zone 'Asia/Shanghai')::date - reply_due_on
                when replied_on > reply_due_on then replied_on - reply_due_on end as days_overdue
    from core.supervision_record
    where kind in ('PROCURATORIAL_SUGGESTION', 'PIL_PRELITIGATION_SUGGESTION', 'TRANSFER_OPINION', 'REVERSE_TRANSFER_OPINION', 'FILING_SUPERVISION', 'PETITION_12309')`);

  await knex.raw(`create view mart.daily_counts as
    select day, region_code, domain, sum(cases)::int as enforcement_cases, sum(tickets)::int as hotline_tickets, sum(supervision)::int as supervision_records
    from (
      select coalesce(decided_on, occurred_on) as day, region_code, domain, 1 as cases, 0 as tickets, 0 as supervision from core.enforcement_case
      union all
      select (received_at at time zone 'Asia/Shanghai')::date, region_code, 'HOTLINE', 0, 1, 0 from core.hotline_ticket
      union all
      select issued_on, region_code, 'SUPERVISION', 0, 0, 1 from core.supervision_record
    ) x
    where day is not null
    group by day, region_code, domain`);

  // Roles: the analyst reads mart and nothing else; the hub's role owns the data flow.
  await knex.raw(`do $$ begin
    if not exists (select from pg_roles where rolname = '${ANALYST_ROLE}') then create role ${ANALYST_ROLE} login; end if;
    if not exists (select from pg_roles where rolname = '${HUB_ROLE}') then create role ${HUB_ROLE} nologin; end if;
  end $$`);
  await knex.raw(`revoke all on schema core, link, ops from ${ANALYST_ROLE}`);
  await knex.raw(`revoke create on schema public from ${ANALYST_ROLE}`);
  await knex.raw(`grant usage on schema mart to ${ANALYST_ROLE}`);
  await knex.raw(`grant select on all tables in schema mart to ${ANALYST_ROLE}`);
  await knex.raw(`alter default privileges in schema mart grant select on tables to ${ANALYST_ROLE}`);
  await knex.raw(`grant usage on schema core, link, mart, ops to ${HUB_ROLE}`);
  await knex.raw(`grant select, insert, update, delete on all tables in schema core, link, ops to ${HUB_ROLE}`);
  await knex.raw(`grant select on all tables in schema mart to ${HUB_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  for (const v of ['daily_counts', 'suggestion_tracking', 'case_timeline', 'party_360']) await knex.raw(`drop view if exists mart.${v}`);
  for (const t of ['ticket_supervision', 'ticket_case', 'case_supervision']) await knex.raw(`drop table if exists link.${t}`);
  await knex.raw(`drop table if exists core.party`);
  for (const t of ['enforcement_case', 'hotline_ticket', 'supervision_record']) await knex.raw(`alter table core.${t} drop column if exists party_key`);
  await knex.raw(`drop index if exists core.supervision_record_decision_nos_idx`);
  await knex.raw(`drop index if exists core.supervision_record_ticket_ids_idx`);
  for (const role of [ANALYST_ROLE, HUB_ROLE]) {
    await knex.raw(`do $$ begin if exists (select from pg_roles where rolname = '${role}') then
      execute 'revoke all on all tables in schema mart, core, link, ops from ${role}';
      execute 'revoke all on schema mart, core, link, ops from ${role}';
      execute 'alter default privileges in schema mart revoke select on tables from ${role}';
      execute 'drop role ${role}';
    end if; end $$`);
  }
}
