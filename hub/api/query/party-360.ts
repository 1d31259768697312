import type { Knex } from 'knex';
import type { Dataset } from '../../../schemas/catalog';
import { partySeenSql } from '../../../pipelines/warehouse/link-parties';
import { READINGS } from './datasets';
import { selectList } from './present-record';

/**
 * A party and everything the warehouse holds about it, in the datasets the caller may read:
 * the records about the party itself, the records linked to those (a procuratorial opinion
 * citing the party's penalty decision often names no party of its own), and the links between
 * them. A dataset the caller may not read is neither returned nor followed.
 *
 * @example
 *   const view = await readParty360(db, 'USCC:91620902MA5726159J', ['enforcement-case', 'supervision-record'], 100);
 *   view?.records['enforcement-case']; // [{ relation: 'party', row }, …]
 */
export interface PartyRow {
  party_key: string;
  kind: string;
  name: string | null;
  uscc: string | null;
  id_hash: string | null;
  id_masked: string | null;
  region_code: string | null;
  confidence: string;
  first_seen: string;
  last_seen: string;
}

export interface Party360 {
  party: PartyRow;
  records: Partial<Record<Dataset, Array<{ relation: 'party' | 'linked'; row: Record<string, unknown> }>>>;
  /** Datasets with more of the party's own records than the limit. */
  truncated: Dataset[];
  links: Array<{ from: { dataset: Dataset; id: string }; to: { dataset: Dataset; id: string }; via: string }>;
}

/** The link tables, the two datasets each joins and their id columns. */
const LINKS: ReadonlyArray<{ table: string; from: Dataset; fromId: string; to: Dataset; toId: string }> = [
  { table: 'link.ticket_case', from: 'hotline-ticket', fromId: 'ticket_id', to: 'enforcement-case', toId: 'case_id' },
  { table: 'link.case_supervision', from: 'enforcement-case', fromId: 'case_id', to: 'supervision-record', toId: 'record_id' },
  { table: 'link.ticket_supervision', from: 'hotline-ticket', fromId: 'ticket_id', to: 'supervision-record', toId: 'record_id' },
];

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

async function rowsOf(db: Knex, dataset: Dataset, where: { partyKey?: string; ids?: string[] }, limit: number): Promise<Array<Record<string, unknown>>> {
  const r = READINGS[dataset];
  const q = db.from(`core.${r.table.table}`).select(db.raw(selectList(r.table)));
  if (where.partyKey !== undefined) q.where('party_key', where.partyKey);
  if (where.ids !== undefined) q.whereIn(r.idColumn, where.ids);
  return (await q.orderByRaw(`${r.sortSql} desc, "${r.idColumn}" desc`).limit(limit)) as Array<Record<string, unknown>>;
}

/**
 * Read in one snapshot (a read-only, repeatable-read transaction): the party, its records, their
 * links and when it was seen agree with each other even while the sink writes.
 */
export function readParty360(db: Knex, partyKey: string, readable: readonly Dataset[], limit: number): Promise<Party360 | null> {
  return db.transaction((trx) => readInSnapshot(trx, partyKey, readable, limit), { isolationLevel: 'repeatable read', readOnly: true });
}

async function readInSnapshot(db: Knex.Transaction, partyKey: string, readable: readonly Dataset[], limit: number): Promise<Party360 | null> {
  const found = (await db('core.party')
    .select('party_key', 'kind', 'name', 'uscc', 'id_hash', 'id_masked', 'region_code', 'confidence')
    .where({ party_key: partyKey })
    .first()) as Omit<PartyRow, 'first_seen' | 'last_seen'> | undefined;
  if (!found) return null;

  const records: Party360['records'] = {};
  const ids = new Map<Dataset, Set<string>>();
  const truncated: Dataset[] = [];
  for (const dataset of readable) {
    const rows = await rowsOf(db, dataset, { partyKey }, limit + 1);
    if (rows.length > limit) truncated.push(dataset);
    records[dataset] = rows.slice(0, limit).map((row) => ({ relation: 'party' as const, row }));
    ids.set(dataset, new Set(records[dataset]!.map(({ row }) => String(row[READINGS[dataset].idColumn]))));
  }
  // Known, but not in anything this caller may read: as good as unknown to them.
  if (readable.every((d) => (records[d]?.length ?? 0) === 0)) return null;
  // Seen in what this caller may read: the dates of records it may not read are not told either.
  const seen = await db.raw<{ rows: Array<{ first_seen: string; last_seen: string }> }>(
    `select to_char(first_seen at time zone 'UTC', ${ISO}) as first_seen, to_char(last_seen at time zone 'UTC', ${ISO}) as last_seen from (${partySeenSql(readable.map((d) => READINGS[d].table), ':party_key')}) seen`,
    { party_key: partyKey },
  );
  const party: PartyRow = { ...found, ...seen.rows[0] };

  const links: Party360['links'] = [];
  const linked = new Map<Dataset, Set<string>>();
  for (const l of LINKS) {
    if (!readable.includes(l.from) || !readable.includes(l.to)) continue;
    const fromIds = [...ids.get(l.from)!];
    const toIds = [...ids.get(l.to)!];
    if (fromIds.length === 0 && toIds.length === 0) continue;
    const found = (await db(l.table)
      .select(l.fromId, l.toId, 'via')
      .where((w) => w.whereIn(l.fromId, fromIds).orWhereIn(l.toId, toIds))
      .orderBy([l.fromId, l.toId])) as Array<Record<string, string>>;
    for (const f of found) {
      links.push({ from: { dataset: l.from, id: f[l.fromId] }, to: { dataset: l.to, id: f[l.toId] }, via: f.via });
      for (const [dataset, id] of [[l.from, f[l.fromId]], [l.to, f[l.toId]]] as const) {
        if (!ids.get(dataset)!.has(id)) linked.set(dataset, (linked.get(dataset) ?? new Set()).add(id));
      }
    }
  }
  for (const [dataset, wanted] of linked) {
    const rows = await rowsOf(db, dataset, { ids: [...wanted] }, limit);
    records[dataset]!.push(...rows.map((row) => ({ relation: 'linked' as const, row })));
    for (const row of rows) ids.get(dataset)!.add(String(row[READINGS[dataset].idColumn]));
  }
  // A link to a record beyond the limit would point at nothing in the answer.
  const shown = links.filter((l) => ids.get(l.from.dataset)!.has(l.from.id) && ids.get(l.to.dataset)!.has(l.to.id));
  return { party, records, truncated, links: shown };
}
