import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createDb } from '../../lib/db';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import type { Dataset } from '../../pipelines/normalise/canonical-fields';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { validateRecord } from '../../pipelines/normalise/outcomes';
import { idCheckChar } from '../../pipelines/normalise/parsers/parse-id-number';
import { usccCheckChar } from '../../pipelines/normalise/parsers/parse-uscc';
import { CORE_TABLES } from '../../pipelines/warehouse/core-rows';
import { linkTouched } from '../../pipelines/warehouse/link-parties';
import { upsertRecords } from '../../pipelines/warehouse/upsert-batch';
import { RECORD_ID_FIELD } from '../../pipelines/normalise/canonical-fields';
import { migrateLatest } from '../../sql/migrate';
import { startTestHub, type TestHub } from '../support/api';
import { uniqueName } from '../support/helpers';
import { isolatedSources } from '../support/pipeline';
import { testConfig } from '../support/stack';

/**
 * The read API's tests run against a warehouse of their own: a fresh PostgreSQL database with
 * the migrations applied, so filters and pages are checked against exactly the rows a test
 * wrote, not the thousands other tests leave in the shared one. Records enter it the way real
 * ones do: an agency-shaped payload through the normaliser (its own ID hashing and masking,
 * with the hub's PII key), then the warehouse sink's upsert and linking statements in one
 * transaction.
 *
 * The sources are copies of the shipped ones under fresh ids; the penalty source gets an
 * http-pull connector (its records count as pulled), the others have none (pushed).
 */
export interface ReadHub {
  hub: TestHub;
  /** The fresh warehouse, for assertions against the rows themselves. */
  db: Knex;
  sources: { penalty: string; hotline: string; supervision: string };
  /** Normalises agency payloads (field names as the source sends them) and applies them to the warehouse. */
  load(role: keyof ReadHub['sources'], payloads: Array<Record<string, unknown>>): Promise<Array<Record<string, any>>>;
  close(): Promise<void>;
}

export async function startReadHub(): Promise<ReadHub> {
  const base = testConfig();
  const database = `it_api_${uniqueName('read').replace(/-/g, '_')}`.toLowerCase();
  const admin = createDb(base, { poolMax: 1 });
  await admin.raw(`create database "${database}"`);
  const db = createDb(base, { database, poolMax: 2 });
  let hub: TestHub | undefined;
  try {
    await migrateLatest(db);
    const { dir, ids } = isolatedSources((_id, doc) => {
      if (doc.dataset === 'enforcement-case') doc.connector = { kind: 'http-pull', config: { url: 'http://127.0.0.1:9/penalties', style: 'page' } };
    });
    hub = await startTestHub((c) => ({ ...c, sources_dir: dir, database: { ...c.database, database } }));
    const rt = hub.rt;
    let offset = 0;
    return {
      hub,
      db,
      sources: ids,
      load: async (role, payloads) => {
        const sourceId = ids[role];
        const records = payloads.map((payload) => {
          const envelope = buildEnvelope({ sourceId, dataset: rt.sources.get(sourceId)!.dataset, payload, runId: 'it-api-read' });
          const outcome = normaliseEnvelope(envelope, { topic: `raw.${sourceId}`, partition: 0, offset: String(offset++) }, { sources: rt.sources, piiSecret: rt.piiSecret, replyDeadlines: rt.config.domain.reply_deadlines, validate: validateRecord });
          if (outcome.kind !== 'canonical') throw new Error(`fixture did not normalise: ${JSON.stringify(outcome.letter.errors)}`);
          return outcome.record as Record<string, any>;
        });
        const dataset = rt.sources.get(sourceId)!.dataset as Dataset;
        const table = CORE_TABLES[dataset];
        await db.transaction(async (trx) => {
          await upsertRecords(trx, table, records);
          await linkTouched(trx, table, records.map((r) => String(r[RECORD_ID_FIELD[dataset]])), rt.config.warehouse.link_window_days);
        });
        return records;
      },
      close: async () => {
        await hub?.close();
        await db.destroy();
        await admin.raw(`drop database if exists "${database}" with (force)`);
        await admin.destroy();
      },
    };
  } catch (err) {
    await hub?.close().catch(() => undefined);
    await db.destroy();
    await admin.raw(`drop database if exists "${database}" with (force)`);
    await admin.destroy();
    throw err;
  }
}

/** A credit code with a correct check character: `code('91620902MA572615')` + padding to 17, then the check. */
export function creditCode(first17: string): string {
  return first17 + usccCheckChar(first17);
}

/** A resident ID number with a correct check character (birth date inside the first 17). */
export function idNumber(first17: string): string {
  return first17 + idCheckChar(first17);
}

/** A random mobile number, so no two runs share one. */
export function mobile(): string {
  return `139${String(crypto.randomInt(0, 1e8)).padStart(8, '0')}`;
}

/**
 * Clear identifiers in a response body: 18-character ID numbers (17 digits and a digit or X)
 * and mainland mobiles, not glued to other letters or digits (a 64-hex hash is not an ID).
 */
export function clearIdentifiers(text: string): string[] {
  const id = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g;
  const phone = /(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])/g;
  return [...(text.match(id) ?? []), ...(text.match(phone) ?? [])];
}

/** Keyed hashes (64 hex characters) in a response body. */
export function hashesIn(text: string): string[] {
  return text.match(/(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g) ?? [];
}
