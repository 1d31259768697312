import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { Principal, requireScope } from './auth';
import { ApiError, ErrorBody, validationDetails } from './http-errors';

/**
 * One definition per endpoint, used twice: the handler is called with params, query and body
 * already validated by its zod schemas, and the OpenAPI document (`/v1/openapi.json`) is
 * generated from the same schemas — the documentation cannot drift from what is enforced.
 *
 * @example
 *   export const listTopics = defineRoute({
 *     method: 'get', path: '/topics', tag: 'topics', summary: 'Topics downstream systems can subscribe to',
 *     auth: 'key',
 *     responses: { 200: { description: 'the topics', schema: TopicList } },
 *     handler: async () => ({ body: { topics } }),
 *   });
 */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The caller; null on public routes only. */
  principal: Principal | null;
  req: Request;
  res: Response;
  /** What the audit row should say beyond route and outcome: the dataset and how many records were read or written. */
  note(fields: { dataset?: string; records?: number }): void;
}

export interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Who may call: `public` (no key: the OpenAPI document, the docs page), `key` (any valid key),
 * or the scope the call needs, computed from its validated params (`read:${dataset}`).
 */
export type RouteAuth<P> = 'public' | 'key' | { scope: (params: P) => string; describe: string };

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: 'get' | 'post';
  /** Express path under /v1, e.g. `/datasets/:dataset/records`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: RouteAuth<z.output<P>>;
  params?: P;
  query?: Q;
  body?: B;
  /** Success responses; the error responses (400, 401, 403, 413, 429, 500) are added to the document. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  handler: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<Reply>;
}

/** A route with its types erased, as the router and the document generator hold it. */
export type ApiRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

export function defineRoute<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<P, Q, B>): ApiRoute {
  return spec as unknown as ApiRoute;
}

/** What mounting needs from the rest of the API: who the caller is, and whether they are over their rate. */
export interface RouteGuards {
  authenticate(req: Request): Promise<Principal>;
  /** Throws ApiError 429 when the key is over its rate. */
  limit(principal: Principal): void;
}

function parse<T extends z.ZodType>(where: 'params' | 'query' | 'body', schema: T | undefined, value: unknown): z.output<T> {
  if (!schema) return undefined as z.output<T>;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiError(400, 'VALIDATION_FAILED', `the request's ${where} are not valid: ${result.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`).join('; ')}`, validationDetails(where, result.error));
  }
  return result.data;
}

/** Mounts each route on the router: authenticate, validate params (so a scope can depend on them), check scope and rate, validate the rest, answer. */
export function mountRoutes(router: Router, routes: readonly ApiRoute[], guards: RouteGuards): void {
  for (const route of routes) {
    router[route.method](route.path, async (req, res) => {
      res.locals.route = route.path;
      let principal: Principal | null = null;
      if (route.auth !== 'public') {
        principal = await guards.authenticate(req);
        res.locals.principal = principal;
      }
      const params = parse('params', route.params, req.params);
      if (principal && typeof route.auth === 'object') {
        requireScope(principal, route.auth.scope(params));
      }
      if (principal) guards.limit(principal);
      const query = parse('query', route.query, req.query);
      const body = parse('body', route.body, req.body);
      const reply = await route.handler({
        params,
        query,
        body,
        principal,
        req,
        res,
        note: (fields) => {
          if (fields.dataset !== undefined) res.locals.auditDataset = fields.dataset;
          if (fields.records !== undefined) res.locals.auditRecords = fields.records;
        },
      });
      if (reply.headers) res.set(reply.headers);
      res.locals.outcome = 'OK';
      res.status(reply.status ?? 200);
      if (typeof reply.body === 'string') res.send(reply.body);
      else res.json(reply.body);
    });
  }
}

const ERROR_RESPONSES: Record<number, string> = {
  400: 'the request is not valid (details.issues says which field and why)',
  401: 'no API key, or an unknown or revoked one',
  403: 'the key lacks the scope this call needs (details.required)',
  413: 'the request body is larger than the hub accepts (details.limit, in bytes)',
  429: 'too many requests for this key; retry after the Retry-After header',
  500: 'the hub failed; details.request_id finds it in the hub log',
};

/**
 * A schema as JSON Schema for the document. Schemas named with `.meta({ id })` come out of zod as
 * `$ref: '#/$defs/<id>'` with the definition beside it; in an OpenAPI document such a reference
 * resolves against the document's root, where there is no `$defs`, so the definitions move to
 * `components.schemas` and the references follow them.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', components: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _drop, $defs, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  const defs = Object.entries(($defs ?? {}) as Record<string, unknown>);
  const names = new Map<string, string>(defs.map(([id]) => [id, id]));
  const move = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(move);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        const m = k === '$ref' && typeof v === 'string' ? /^#\/\$defs\/(.+)$/.exec(v) : null;
        return [k, m ? `#/components/schemas/${names.get(decodeURIComponent(m[1])) ?? m[1]}` : move(v)];
      }),
    );
  };
  // The same id may differ between the input and output forms of a schema: keep both apart.
  for (const [id, def] of defs) if (id in components && JSON.stringify(components[id]) !== JSON.stringify(move(def))) names.set(id, `${id}_${io}`);
  for (const [id, def] of defs) components[names.get(id)!] = move(def);
  return move(rest) as Record<string, unknown>;
}

function objectParameters(schema: z.ZodType | undefined, where: 'path' | 'query', components: Record<string, unknown>): Array<Record<string, unknown>> {
  if (!schema) return [];
  const doc = jsonSchema(schema, 'input', components) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(doc.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop;
    return { name, in: where, required: where === 'path' || (doc.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

/** The OpenAPI 3.1 document of the routes (JSON Schema 2020-12 is OpenAPI 3.1's schema dialect). */
export function openApiDocument(routes: readonly ApiRoute[], info: { title: string; version: string; description: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = {};
  for (const route of routes) {
    const path = '/v1' + route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = { description: r.description, ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.schema, 'output', schemas) } } } : {}) };
    }
    const errors = route.auth === 'public' ? [400, 413, 500] : [400, 401, 403, 413, 429, 500];
    for (const status of errors) {
      if (status === 400 && !route.params && !route.query && !route.body) continue;
      if (status === 413 && !route.body) continue;
      responses[status] = { description: ERROR_RESPONSES[status], content: { 'application/json': { schema: jsonSchema(ErrorBody, 'output', schemas) } } };
    }
    const scope = typeof route.auth === 'object' ? route.auth.describe : route.auth === 'key' ? 'any valid key' : null;
    paths[path] = {
      ...paths[path],
      [route.method]: {
        tags: [route.tag],
        summary: route.summary,
        description: [route.description, scope ? `Requires: ${scope}.` : null].filter(Boolean).join('\n\n'),
        operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        parameters: [...objectParameters(route.params, 'path', schemas), ...objectParameters(route.query, 'query', schemas)],
        ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input', schemas) } } } } : {}),
        responses,
        ...(route.auth === 'public' ? {} : { security: [{ apiKey: [] }] }),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    components: { schemas, securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An agency key from `liandong agency add`: Authorization: Bearer ld_<id>.<secret>' } } },
    paths,
  };
}
