import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Dataset } from '../../../schemas/catalog';
import { ApiError } from '../http-errors';
import { READINGS } from './datasets';
import { selectList } from './present-record';

/**
 * A page of a dataset's current records, newest main date first, with a keyset cursor: the
 * next page starts strictly after the last row's (main date, id), so rows written meanwhile
 * never shift a page the way OFFSET would, and every page costs the same.
 *
 * The cursor is opaque to clients (base64url JSON) and bound to the query's filters: reusing
 * it with other filters would silently skip or repeat rows, so that is a 400 instead.
 *
 * @example
 *   const page = await readRecords(db, 'enforcement-case', { creditCode: '91620902MA5726159J' }, 100, null);
 *   page.rows.length; page.nextCursor; // null on the last page
 */
export interface RecordFilters {
  creditCode?: string;
  /** Digits of a GB/T 2260 code without its trailing `00` pairs: `6209` is the city, `620902` a district. */
  regionPrefix?: string;
  from?: string;
  to?: string;
  statuses?: string[];
  domains?: string[];
}

export interface RecordPage {
  rows: Array<Record<string, unknown>>;
  nextCursor: string | null;
}

const CursorBody = z.object({ v: z.literal(1), d: z.string(), f: z.string(), k: z.string().max(64), i: z.string().max(1000) }).strict();

function fingerprint(dataset: Dataset, filters: RecordFilters): string {
  const canonical = JSON.stringify([dataset, filters.creditCode ?? null, filters.regionPrefix ?? null, filters.from ?? null, filters.to ?? null, [...(filters.statuses ?? [])].sort(), [...(filters.domains ?? [])].sort()]);
  return crypto.createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodeCursor(dataset: Dataset, filters: RecordFilters, sortKey: string, id: string): string {
  return Buffer.from(JSON.stringify({ v: 1, d: dataset, f: fingerprint(dataset, filters), k: sortKey, i: id }), 'utf8').toString('base64url');
}

export function decodeCursor(dataset: Dataset, filters: RecordFilters, token: string): { sortKey: string; id: string } {
  let body: z.infer<typeof CursorBody>;
  try {
    body = CursorBody.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw new ApiError(400, 'BAD_CURSOR', 'the cursor is not one this API issued; start again without it', { in: 'query', issues: [{ path: 'cursor', message: 'not a cursor of this API', code: 'invalid_cursor' }] });
  }
  // The sort key goes into SQL as a typed parameter: a hand-made one must not reach the cast.
  const shape = READINGS[dataset].sortType === 'date' ? /^\d{4}-\d{2}-\d{2}$/ : /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
  if (!shape.test(body.k)) throw new ApiError(400, 'BAD_CURSOR', 'the cursor is not one this API issued; start again without it', { in: 'query', issues: [{ path: 'cursor', message: 'not a cursor of this API', code: 'invalid_cursor' }] });
  if (body.d !== dataset || body.f !== fingerprint(dataset, filters)) {
    throw new ApiError(400, 'BAD_CURSOR', 'the cursor belongs to another query: send the same dataset and filters as the page it came from', { in: 'query', issues: [{ path: 'cursor', message: 'issued for other filters', code: 'cursor_mismatch' }] });
  }
  return { sortKey: body.k, id: body.i };
}

/** GB/T 2260 codes pad with `00`: `620900` (the city) covers every `6209xx`, `620000` the province. */
export function regionPrefix(code: string): string {
  let prefix = code;
  while (prefix.length > 2 && prefix.endsWith('00')) prefix = prefix.slice(0, -2);
  return prefix;
}

export async function readRecords(db: Knex, dataset: Dataset, filters: RecordFilters, limit: number, cursor: string | null): Promise<RecordPage> {
  const r = READINGS[dataset];
  const id = `"${r.idColumn}"`;
  const q = db
    .from(`core.${r.table.table}`)
    .select(db.raw(selectList(r.table)))
    .select(db.raw(`(${r.sortSql})::text as _sort_key`));
  // The party key of an organisation with a credit code is the code (indexed), whichever column it came from.
  if (filters.creditCode) q.where('party_key', `USCC:${filters.creditCode}`);
  if (filters.regionPrefix) q.where('region_code', 'like', `${filters.regionPrefix}%`);
  if (r.sortType === 'date') {
    if (filters.from) q.whereRaw(`${r.sortSql} >= ?::date`, [filters.from]);
    if (filters.to) q.whereRaw(`${r.sortSql} <= ?::date`, [filters.to]);
  } else {
    // Days are the city's days: a ticket received at 23:30 on the 4th (Beijing time) is the 4th's.
    if (filters.from) q.whereRaw(`${r.sortSql} >= (?::date)::timestamp at time zone 'Asia/Shanghai'`, [filters.from]);
    if (filters.to) q.whereRaw(`${r.sortSql} < (?::date + 1)::timestamp at time zone 'Asia/Shanghai'`, [filters.to]);
  }
  if (filters.statuses?.length) q.whereIn('status', filters.statuses);
  if (filters.domains?.length && r.domain) {
    if (r.domain.array) q.whereRaw(`${r.domain.column} && ?::text[]`, [filters.domains]);
    else q.whereIn(r.domain.column, filters.domains);
  }
  if (cursor) {
    const after = decodeCursor(dataset, filters, cursor);
    q.whereRaw(`(${r.sortSql}, ${id}) < (?::${r.sortType}, ?)`, [after.sortKey, after.id]);
  }
  q.orderByRaw(`${r.sortSql} desc, ${id} desc`).limit(limit + 1);
  let rows: Array<Record<string, unknown>>;
  try {
    rows = (await q) as Array<Record<string, unknown>>;
  } catch (err) {
    // 22007/22008: a date PostgreSQL refuses (2025-02-30) in a hand-made cursor.
    if (cursor && ['22007', '22008'].includes((err as { code?: string }).code ?? '')) throw new ApiError(400, 'BAD_CURSOR', 'the cursor is not one this API issued; start again without it', {});
    throw err;
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor(dataset, filters, String(last._sort_key), String(last[r.idColumn])) : null;
  for (const row of page) delete row._sort_key;
  return { rows: page, nextCursor };
}
