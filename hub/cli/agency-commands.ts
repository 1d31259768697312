import { Command } from 'commander';
import type { Knex } from 'knex';
import { loadConfig } from '../../lib/config';
import { createDb } from '../../lib/db';
import { LiandongError } from '../../lib/errors';
import { ApiError } from '../api/http-errors';
import { createApiKey, revokeApiKey } from '../api/auth';
import { table } from './output';

const say = (line: string) => process.stdout.write(line + '\n');
const note = (line: string) => process.stderr.write(line + '\n');

/** Runs `fn` on the configured database, turning the errors a user can act on into plain messages. */
async function withKeysDb<T>(fn: (db: Knex, keyCacheMs: number) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = createDb(config, { poolMax: 2 });
  try {
    return await fn(db, config.hub.key_cache_ms);
  } catch (err) {
    if (err instanceof ApiError) throw new LiandongError(err.code, err.message);
    if ((err as { code?: string }).code === '42P01') throw new LiandongError('NOT_MIGRATED', 'the database has no ops.api_keys table yet: run `liandong migrate` first');
    throw err;
  } finally {
    await db.destroy();
  }
}

const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/**
 * `liandong agency …`: the exchange API's keys, one or more per agency. A key is printed once,
 * when created — only its hash is stored — so `add` prints the key alone on stdout (for a
 * script to capture) and everything else on stderr.
 */
export function agencyCommands(): Command {
  const agency = new Command('agency').description("agencies' keys for the exchange API: add, list, revoke");

  agency
    .command('add')
    .description('create a key for an agency and print it (once: it cannot be shown again)')
    .argument('<code>', "the agency's code, e.g. its unified social credit code")
    .requiredOption('--name <name>', "the agency's name, e.g. 酒泉市市场监督管理局")
    .requiredOption('--scopes <list>', 'comma-separated: ingest:<dataset>, read:<dataset>, read:pii, admin (ingest:* / read:* for every dataset)')
    .action(async (code: string, opts: { name: string; scopes: string }) => {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(code)) throw new LiandongError('BAD_AGENCY_CODE', `agency code ${JSON.stringify(code)} must be 1–64 letters, digits, '.', '_' or '-'`);
      if (!opts.name.trim()) throw new LiandongError('BAD_AGENCY_NAME', '--name must not be empty');
      await withKeysDb(async (db) => {
        const scopes = list(opts.scopes);
        const { keyId, key } = await createApiKey(db, { agencyCode: code, agencyName: opts.name.trim(), scopes });
        note(`key ${keyId} for ${opts.name.trim()} (${code}), scopes ${scopes.join(', ')}:`);
        say(key);
        note('This key is shown once and never again: only its hash is stored. Hand it to the agency over a secure channel;');
        note(`a lost key cannot be recovered — revoke it (liandong agency revoke ${keyId}) and add a new one.`);
      });
    });

  agency
    .command('list')
    .description('keys by agency: id, scopes, created, last used, revoked (never the keys themselves)')
    .option('--agency <code>', 'only this agency')
    .option('--all', 'include revoked keys')
    .action(async (opts: { agency?: string; all?: boolean }) => {
      await withKeysDb(async (db) => {
        const q = db('ops.api_keys').select('key_id', 'agency_code', 'agency_name', 'scopes', 'created_at', 'last_used_at', 'revoked_at');
        if (opts.agency) q.where('agency_code', opts.agency);
        if (!opts.all) q.whereNull('revoked_at');
        const rows = await q.orderBy([{ column: 'agency_code' }, { column: 'created_at' }]);
        const time = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
        say(
          table(rows.map((r) => ({
            key_id: r.key_id as string,
            agency: r.agency_code as string,
            name: r.agency_name as string,
            scopes: (r.scopes as string[]).join(','),
            created: time(r.created_at as Date),
            'last used': time(r.last_used_at as Date | null),
            ...(opts.all ? { revoked: time(r.revoked_at as Date | null) } : {}),
          }))) || (opts.all ? 'no keys' : 'no active keys (--all shows revoked ones)'),
        );
      });
    });

  agency
    .command('revoke')
    .description('revoke a key: hubs refuse it within hub.key_cache_ms')
    .argument('<key_id>', 'the key id, as `agency list` shows it (the part between ld_ and the dot)')
    .action(async (keyId: string) => {
      await withKeysDb(async (db, keyCacheMs) => {
        if (!(await revokeApiKey(db, keyId))) throw new LiandongError('KEY_NOT_FOUND', `no active key ${JSON.stringify(keyId)} (unknown, or already revoked)`);
        say(`key ${keyId} revoked; running hubs refuse it within ${Math.ceil(keyCacheMs / 1000)} s (their key cache)`);
      });
    });
  return agency;
}
