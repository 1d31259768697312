import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Principal } from './auth';
import { AuditEntry, CANONICAL_TIME_SQL } from './audit-chain';
import { AuditWriter } from './audit-writer';
import type { ApiModuleFactory } from './deps';
import { defineRoute } from './route';

/**
 * The audit trail of the exchange API: every request that reaches the hub — answered, refused
 * (401, 403, 404, 413, 429) or failed (500) — becomes one row of ops.audit_log when its
 * response finishes: request id, key and agency, method, route template, dataset, record count,
 * status and outcome. Rows are hash-chained (audit-chain.ts) and written in batches
 * (audit-writer.ts); `GET /v1/audit` reads them back and `liandong audit verify` checks them.
 *
 * Handlers say what a row should add through `ctx.note({ dataset, records })` (hub/api/route.ts).
 */

/** Routes outside /v1 that are recorded by their path: fixed paths, no parameter in them. */
const FIXED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** What is recorded as the route of a request that matched none (its path may hold an ID number). */
export const NO_ROUTE = '(no route)';

/**
 * The route template a request matched, as audit rows and metrics record it: `/v1/parties/:key`,
 * never `/v1/parties/110105…` — a path parameter can be an ID number.
 */
export function routeTemplate(req: Request, res: Response): string {
  if (typeof res.locals.route === 'string') return `/v1${res.locals.route}`;
  const path = req.originalUrl.split('?')[0];
  return FIXED_PATHS.has(path) ? path : NO_ROUTE;
}

/** Calls `fn` once when the response is over: sent in full, or the connection closed before that. */
export function onResponseDone(res: Response, fn: (finished: boolean) => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn(res.writableFinished);
  };
  res.once('finish', once);
  res.once('close', once);
}

function entryOf(req: Request, res: Response, at: Date, finished: boolean): AuditEntry {
  const principal = res.locals.principal as Principal | undefined;
  const status = finished ? res.statusCode : 499;
  const outcome = !finished ? 'CLIENT_CLOSED_REQUEST' : typeof res.locals.outcome === 'string' ? res.locals.outcome : status < 400 ? 'OK' : status === 404 ? 'NOT_FOUND' : `HTTP_${status}`;
  return {
    at,
    requestId: String(res.locals.requestId ?? ''),
    keyId: principal?.keyId ?? null,
    agencyCode: principal?.agencyCode ?? null,
    method: req.method,
    route: routeTemplate(req, res),
    dataset: typeof res.locals.auditDataset === 'string' ? res.locals.auditDataset : null,
    recordCount: Number.isInteger(res.locals.auditRecords) ? (res.locals.auditRecords as number) : 0,
    status,
    outcome,
  };
}

const seqText = z.string().regex(/^\d{1,18}$/, 'a seq number').transform(BigInt);
const isoTime = z.iso.datetime({ offset: true });

export const AuditQuery = z
  .object({
    agency: z.string().min(1).max(64).optional().describe('Only this agency code.'),
    key_id: z.string().regex(/^[0-9a-f]{16}$/, 'a key id: 16 hex digits').optional().describe('Only requests made with this key.'),
    route: z.string().min(1).max(200).optional().describe('Only this route template, e.g. `/v1/parties/:key` or `(no route)`.'),
    outcome: z.string().regex(/^[A-Z_0-9]{1,64}$/, 'an outcome code such as OK or SCOPE_MISSING').optional().describe('Only this outcome (`OK` or an error code).'),
    from: isoTime.optional().describe('Requests that arrived at or after this time (ISO 8601 with offset).'),
    to: isoTime.optional().describe('Requests that arrived before this time (ISO 8601 with offset).'),
    order: z.enum(['asc', 'desc']).default('desc').describe('By seq: `desc` (newest first, the default) or `asc`.'),
    cursor: seqText.optional().describe('`next_cursor` of the previous page: continue after this seq in the chosen order.'),
    limit: z.string().regex(/^\d{1,4}$/, 'a number from 1 to 1000').transform(Number).pipe(z.number().int().min(1).max(1000)).default(100).describe('Rows per page, 1–1000 (default 100).'),
  })
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: '`from` must be before `to`', path: ['to'] });

const AuditRow = z.object({
  seq: z.string().describe('Position in the chain (a decimal string: it may exceed 2^53).'),
  at: z.string().describe('When the request arrived (UTC, microseconds).'),
  request_id: z.string(),
  key_id: z.string().nullable(),
  agency_code: z.string().nullable(),
  method: z.string(),
  route: z.string().describe('The route template, never the path as sent.'),
  dataset: z.string().nullable(),
  record_count: z.number().int(),
  status: z.number().int(),
  outcome: z.string(),
  prev_hash: z.string(),
  hash: z.string(),
});

export const AuditPage = z
  .object({
    entries: z.array(AuditRow),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'AuditPage' });

/**
 * Records every request (middleware), serves `GET /v1/audit` (scope admin), and owns the
 * writer: started with the hub, flushed when it stops.
 */
export const auditModule: ApiModuleFactory = ({ db, logger }) => {
  const writer = new AuditWriter(db, logger.child({ part: 'audit' }));

  const record: RequestHandler = (req, res, next) => {
    const at = new Date();
    onResponseDone(res, (finished) => writer.append(entryOf(req, res, at, finished)));
    next();
  };

  const readAudit = defineRoute({
    method: 'get',
    path: '/audit',
    tag: 'audit',
    summary: 'The audit log: every request to the hub, hash-chained (审计日志)',
    description: 'Filter by agency, key, route template, outcome and time; page by seq with `cursor`. Rows carry their chain hashes; `liandong audit verify` recomputes the whole chain.',
    auth: { scope: () => 'admin', describe: 'scope `admin`' },
    query: AuditQuery,
    responses: { 200: { description: 'one page of audit rows', schema: AuditPage } },
    handler: async ({ query, note }) => {
      const q = db('ops.audit_log').select(
        db.raw('seq::text as seq'),
        db.raw(`${CANONICAL_TIME_SQL} as at`),
        'request_id', 'key_id', 'agency_code', 'method', 'route', 'dataset', 'record_count', 'status', 'outcome', 'prev_hash', 'hash',
      );
      if (query.agency) q.where('agency_code', query.agency);
      if (query.key_id) q.where('key_id', query.key_id);
      if (query.route) q.where('route', query.route);
      if (query.outcome) q.where('outcome', query.outcome);
      if (query.from) q.where('at', '>=', query.from);
      if (query.to) q.where('at', '<', query.to);
      if (query.cursor !== undefined) q.where('seq', query.order === 'asc' ? '>' : '<', query.cursor.toString());
      // The column, not the text alias `seq` of the select list (which would sort 1, 10, 100, 11…).
      const entries = await q.orderBy('audit_log.seq', query.order).limit(query.limit);
      note({ records: entries.length });
      return { body: { entries, next_cursor: entries.length === query.limit ? entries[entries.length - 1].seq : null } };
    },
  });

  return {
    middleware: [record],
    routes: [readAudit],
    stop: () => writer.stop(),
  };
};
