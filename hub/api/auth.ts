import crypto from 'node:crypto';
import type { Request } from 'express';
import type { Knex } from 'knex';
import { ApiError } from './http-errors';

/**
 * API keys. A key reads `ld_<key_id>.<secret>`: the key id finds the row, the secret is checked
 * against its SHA-256 (keys are 256 random bits, so a plain hash is as strong as a slow one and
 * costs nothing per request). The key is shown once, when created, and never stored.
 *
 * Scopes: `ingest:<dataset>`, `read:<dataset>`, `read:pii` (personal fields in clear) and
 * `admin`. `admin` passes every check except `read:pii`, which is always granted explicitly;
 * `ingest:*` / `read:*` cover every dataset.
 *
 * @example
 *   const { key } = await createApiKey(db, { agencyCode: '11620900MB19512346', agencyName: '酒泉市市场监督管理局', scopes: ['ingest:enforcement-case'] });
 *   const principal = await keys.authenticate(req);   // 401 when missing or wrong
 *   requireScope(principal, 'ingest:enforcement-case'); // 403 when not granted
 */
export interface Principal {
  keyId: string;
  agencyCode: string;
  agencyName: string;
  scopes: readonly string[];
}

export const SCOPE_PATTERN = /^(admin|read:pii|(ingest|read):(\*|enforcement-case|hotline-ticket|supervision-record))$/;
const KEY_PATTERN = /^ld_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

const hashSecret = (secret: string) => crypto.createHash('sha256').update(secret, 'utf8').digest('hex');

export function hasScope(principal: Principal, scope: string): boolean {
  const scopes = principal.scopes;
  if (scopes.includes(scope)) return true;
  if (scope === 'read:pii') return false;
  if (scopes.includes('admin')) return true;
  const [verb] = scope.split(':');
  return (verb === 'ingest' || verb === 'read') && scopes.includes(`${verb}:*`);
}

export function requireScope(principal: Principal, scope: string): void {
  if (!hasScope(principal, scope)) {
    throw new ApiError(403, 'SCOPE_MISSING', `this key (${principal.keyId}) is not granted ${scope}`, { required: scope, granted: principal.scopes });
  }
}

export interface NewKey {
  agencyCode: string;
  agencyName: string;
  scopes: readonly string[];
}

/** Creates a key and returns it in clear — the only time it exists outside the caller. */
export async function createApiKey(db: Knex, input: NewKey): Promise<{ keyId: string; key: string }> {
  const bad = input.scopes.filter((s) => !SCOPE_PATTERN.test(s));
  if (bad.length > 0 || input.scopes.length === 0) {
    throw new ApiError(400, 'BAD_SCOPE', `unknown scope(s) ${bad.join(', ') || '(none given)'}; expected admin, read:pii, ingest:<dataset>, read:<dataset> or ingest:* / read:*`, { scopes: bad });
  }
  const keyId = crypto.randomBytes(8).toString('hex');
  const secret = crypto.randomBytes(32).toString('base64url');
  await db('ops.api_keys').insert({ key_id: keyId, agency_code: input.agencyCode, agency_name: input.agencyName, secret_hash: hashSecret(secret), scopes: [...new Set(input.scopes)] });
  return { keyId, key: `ld_${keyId}.${secret}` };
}

export async function revokeApiKey(db: Knex, keyId: string): Promise<boolean> {
  return (await db('ops.api_keys').where({ key_id: keyId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() })) > 0;
}

/** The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(req: Request): string | null {
  const auth = req.get('authorization');
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    return m ? m[1] : '';
  }
  return req.get('x-api-key') ?? null;
}

interface CachedKey {
  principal: Principal | null;
  secretHash: string;
  until: number;
}

/**
 * Checks presented keys against ops.api_keys, remembering each key row for `cacheMs` so a
 * busy client costs one lookup per interval, not one per request. A revoked key therefore
 * stops working within `cacheMs`.
 */
export class ApiKeyStore {
  private readonly cache = new Map<string, CachedKey>();

  constructor(private readonly db: Knex, private readonly cacheMs = 10_000) {}

  async authenticate(req: Request): Promise<Principal> {
    const key = presentedKey(req);
    if (key === null) throw new ApiError(401, 'UNAUTHENTICATED', 'an API key is required: send Authorization: Bearer <key>', {});
    const m = KEY_PATTERN.exec(key);
    if (!m) throw new ApiError(401, 'UNAUTHENTICATED', 'the API key is malformed; keys read ld_<id>.<secret>', {});
    const [, keyId, secret] = m;
    const entry = await this.lookup(keyId);
    const given = Buffer.from(hashSecret(secret), 'hex');
    const ok = entry.principal !== null && crypto.timingSafeEqual(given, Buffer.from(entry.secretHash, 'hex'));
    if (!ok) throw new ApiError(401, 'UNAUTHENTICATED', 'the API key is unknown or revoked', { key_id: keyId });
    return entry.principal!;
  }

  private async lookup(keyId: string): Promise<CachedKey> {
    const now = Date.now();
    const hit = this.cache.get(keyId);
    if (hit && hit.until > now) return hit;
    const row = await this.db('ops.api_keys').where({ key_id: keyId }).first<{ key_id: string; agency_code: string; agency_name: string; secret_hash: string; scopes: string[]; revoked_at: Date | null } | undefined>();
    const entry: CachedKey = row && !row.revoked_at
      ? { principal: { keyId, agencyCode: row.agency_code, agencyName: row.agency_name, scopes: row.scopes }, secretHash: row.secret_hash, until: now + this.cacheMs }
      : { principal: null, secretHash: '0'.repeat(64), until: now + this.cacheMs };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(keyId, entry);
    return entry;
  }
}
