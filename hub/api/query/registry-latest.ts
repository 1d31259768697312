import type { Config } from '../../../lib/config';
import { ApiError } from '../http-errors';

/**
 * The latest registered version of a subject, from the registry's Confluent-compatible API
 * (`GET /subjects/{subject}/versions/latest`), remembered for `ttlMs` so a busy catalogue does
 * not turn every call into three registry requests.
 *
 * @example
 *   const latest = new LatestSchemas(config);
 *   await latest.get('canonical.hotline-ticket-value'); // { version: 1, id: 7, schema: '{"type":"record",…}' } or null
 */
export interface LatestSchema {
  subject: string;
  version: number;
  id: number;
  /** The schema text as registered. */
  schema: string;
}

export class LatestSchemas {
  private readonly cache = new Map<string, { value: LatestSchema | null; until: number }>();

  constructor(private readonly config: Config, private readonly ttlMs = 10_000) {}

  /** The latest version, or null when the subject is not registered; 503 when the registry cannot answer. */
  async get(subject: string): Promise<LatestSchema | null> {
    const hit = this.cache.get(subject);
    if (hit && hit.until > Date.now()) return hit.value;
    let response: Response;
    try {
      response = await fetch(`${this.config.registry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`, { signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw unavailable(subject, (err as Error).message);
    }
    let value: LatestSchema | null = null;
    if (response.status === 404) {
      await response.body?.cancel();
    } else if (response.ok) {
      const body = (await response.json()) as LatestSchema;
      value = { subject, version: body.version, id: body.id, schema: body.schema };
    } else {
      throw unavailable(subject, `HTTP ${response.status}`);
    }
    this.cache.set(subject, { value, until: Date.now() + this.ttlMs });
    return value;
  }
}

function unavailable(subject: string, why: string): ApiError {
  return new ApiError(503, 'REGISTRY_UNAVAILABLE', `the schema registry could not say which version of ${subject} is current (${why}); retry shortly`, { subject });
}
