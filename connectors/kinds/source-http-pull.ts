import { z } from 'zod';
import { SourceError } from '../../lib/errors';
import type { ConnectorContext, ConnectorKind, ReadItem } from '../contract';
import { isAfter, Watermark, watermarkOf } from '../keyset';

/**
 * `http-pull`: a paginated JSON API, pulled incrementally. Two pagination styles:
 * - `page`: `?<since>=<watermark>&page=1..&page_size=n`, items in (updated_at, id) order;
 * - `cursor`: `?<since>=<watermark>&cursor=<token>&limit=n`, the answer names the next token.
 * Page style asks from the watermark's updated_at (inclusive) and skips records at or below
 * the watermark, so a run never loses the rest of a burst of equal timestamps that a page
 * boundary split. Cursor style resumes from its last token. Records at or below the watermark
 * are skipped either way; after a crash, those read after the last saved state come again.
 */
const HttpPullConfig = z
  .object({
    url: z.url(),
    style: z.enum(['page', 'cursor']),
    since_param: z.string().default('updated_since'),
    page_param: z.string().default('page'),
    page_size_param: z.string().default('page_size'),
    cursor_param: z.string().default('cursor'),
    limit_param: z.string().default('limit'),
    page_size: z.number().int().min(1).max(10_000).default(100),
    /** Where the records are in the answer (`items`, `data`, `result.rows`). */
    items_path: z.string().default('items'),
    /** For `cursor`: where the next token is; null or absent at the end. */
    next_cursor_path: z.string().default('next_cursor'),
    /** For `page`: where the total is, if the API gives one. */
    total_path: z.string().optional(),
    updated_at_field: z.string().default('updated_at'),
    id_field: z.string().default('id'),
    /** Environment variable holding the token; sent as `Authorization: Bearer <token>`. */
    token_env: z.string().meta({ secret: true, description: 'name of the environment variable holding the bearer token' }).optional(),
    timeout_ms: z.number().int().min(100).default(10_000),
    /** At most this many requests a second (the agency's limit). */
    max_requests_per_s: z.number().positive().optional(),
  })
  .strict();
export type HttpPullConfig = z.infer<typeof HttpPullConfig>;

function at(body: unknown, path: string): unknown {
  let node = body;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** One GET; HTTP and network failures become SourceErrors that say whether a retry can help. */
async function getJson(config: HttpPullConfig, params: Record<string, string>, ctx: ConnectorContext): Promise<unknown> {
  const url = new URL(config.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (config.token_env) headers.authorization = `Bearer ${ctx.secret(config.token_env)}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(config.timeout_ms)]) });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const timedOut = (err as Error).name === 'TimeoutError';
    throw new SourceError(`${url.origin}${url.pathname}: ${timedOut ? `no answer within ${config.timeout_ms} ms` : (err as Error).message}`, undefined, { retriable: true, cause: err });
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get('retry-after'));
    const retriable = response.status === 429 || response.status >= 500;
    throw new SourceError(`${url.origin}${url.pathname} answered HTTP ${response.status}`, response.status, {
      retriable,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
    });
  }
  try {
    return await response.json();
  } catch (err) {
    throw new SourceError(`${url.origin}${url.pathname}: the answer is not JSON`, response.status, { retriable: true, cause: err });
  }
}

function throttle(config: HttpPullConfig): () => Promise<void> {
  let last = 0;
  const gap = config.max_requests_per_s ? 1000 / config.max_requests_per_s : 0;
  return async () => {
    const wait = last + gap - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    last = Date.now();
  };
}

function itemsOf(config: HttpPullConfig, body: unknown): Array<Record<string, unknown>> {
  const items = at(body, config.items_path);
  if (!Array.isArray(items)) throw new SourceError(`the answer has no array at ${config.items_path}`, undefined, { retriable: false });
  return items as Array<Record<string, unknown>>;
}

export const httpPull: ConnectorKind<HttpPullConfig> = {
  kind: 'http-pull',
  description: 'a paginated JSON API (page/offset or cursor token), incremental by (updated_at, id)',
  config: HttpPullConfig,

  async check(config, ctx) {
    const params: Record<string, string> =
      config.style === 'page' ? { [config.page_param]: '1', [config.page_size_param]: '1' } : { [config.limit_param]: '1' };
    const body = await getJson(config, params, ctx);
    return `${config.url} answered with ${itemsOf(config, body).length} item(s) on a first page`;
  },

  async *read(config, state, ctx) {
    let watermark = (state?.watermark as Watermark | undefined) ?? null;
    const wait = throttle(config);
    // Page style: each page is asked from the watermark's updated_at, page 1 again whenever the
    // watermark moved. Offsets are only walked within one timestamp, so records that move in
    // the list during the run (a correction jumps to the end) cannot push others past a page.
    let since = watermark?.updated_at;
    let page = 1;
    let cursor = typeof state?.cursor === 'string' ? state.cursor : undefined;
    while (true) {
      await wait();
      const from = since ? { [config.since_param]: since } : {};
      const params: Record<string, string> =
        config.style === 'page'
          ? { ...from, [config.page_param]: String(page), [config.page_size_param]: String(config.page_size) }
          : { ...(cursor ? { [config.cursor_param]: cursor } : from), [config.limit_param]: String(config.page_size) };
      const body = await getJson(config, params, ctx);
      const items = itemsOf(config, body);
      for (const item of items) {
        const w = watermarkOf(item[config.updated_at_field], item[config.id_field]);
        if (!w) {
          yield { type: 'reject', what: `item ${JSON.stringify(item[config.id_field] ?? null)}`, reason: `no ${config.updated_at_field} or ${config.id_field}` };
          continue;
        }
        if (!isAfter(w, watermark)) continue;
        yield { type: 'record', key: w.id, payload: item };
        watermark = w;
      }
      if (config.style === 'page') {
        yield { type: 'state', state: { watermark } } satisfies ReadItem;
        const total = config.total_path ? Number(at(body, config.total_path)) : undefined;
        if (items.length < config.page_size || (total !== undefined && page * config.page_size >= total)) return;
        if (watermark && watermark.updated_at !== since) {
          since = watermark.updated_at;
          page = 1;
        } else {
          page++;
        }
      } else {
        const token = at(body, config.next_cursor_path);
        const next = typeof token === 'string' && token !== '' ? token : undefined;
        // At the end, keep the token of the last page: asking it again returns that page and anything newer.
        const done = next === undefined || next === cursor || items.length === 0;
        if (next !== undefined && items.length > 0) cursor = next;
        yield { type: 'state', state: { watermark, cursor: cursor ?? null } } satisfies ReadItem;
        if (done) return;
      }
    }
  },
};
