import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from '../../lib/log';

/**
 * Errors the exchange API answers with. Every error body is `{code, message, details}`: `code`
 * is stable (clients branch on it), `message` is for a person, `details` says where and why.
 * A stack trace never leaves the process.
 *
 * @example
 *   throw new ApiError(403, 'SCOPE_MISSING', 'this key may not read enforcement-case', { required: 'read:enforcement-case' });
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const ErrorBody = z
  .object({
    code: z.string().describe('Stable error code, e.g. UNAUTHENTICATED, SCOPE_MISSING, VALIDATION_FAILED.'),
    message: z.string().describe('What went wrong, for a person.'),
    details: z.record(z.string(), z.unknown()).describe('Where and why: the failing fields, the scope required…'),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof ErrorBody>;

/** Zod issues as `details.issues`: the path that failed and why, never the value sent (it may be personal data). */
export function validationDetails(where: 'params' | 'query' | 'body', error: z.ZodError): Record<string, unknown> {
  return { in: where, issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })) };
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.path}`, details: {} } satisfies ErrorBody);
};

/** Body-parser failures keep their meaning; anything unexpected is a 500 with a request id to find it in the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const body = errorBody(err);
    // The route template, never req.path: a path parameter can be an ID number, and logs must not hold one.
    if (body.status >= 500) logger.error('request failed', { request_id: res.locals.requestId, route: res.locals.route ?? req.route?.path ?? '(no route)', method: req.method, err });
    res.locals.outcome = body.code;
    if (res.headersSent) return;
    if (typeof body.details.retry_after_s === 'number') res.set('Retry-After', String(body.details.retry_after_s));
    res.status(body.status).json({ code: body.code, message: body.message, details: { ...body.details, ...(body.status >= 500 ? { request_id: res.locals.requestId } : {}) } });
  };
}

function errorBody(err: unknown): { status: number; code: string; message: string; details: Record<string, unknown> } {
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message, details: err.details };
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.too.large') return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `request body is larger than the limit of ${e.limit} bytes`, details: { limit: e.limit } };
  if (e?.type === 'entity.parse.failed') return { status: 400, code: 'MALFORMED_JSON', message: 'request body is not valid JSON', details: {} };
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return { status: 415, code: 'UNSUPPORTED_ENCODING', message: 'request body must be UTF-8 JSON', details: {} };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return { status: e.status, code: 'BAD_REQUEST', message: 'the request could not be read', details: {} };
  return { status: 500, code: 'INTERNAL', message: 'the hub failed to answer this request; it has been logged', details: {} };
}
