import type { Config } from '../lib/config';
import { dbReady, createDb } from '../lib/db';
import { createKafka, kafkaReady } from '../lib/kafka-client';
import { createLogger } from '../lib/log';
import { registryReady } from '../lib/registry-client';

export interface Check {
  name: 'kafka' | 'registry' | 'postgres';
  ok: boolean;
  detail: string;
  ms: number;
}

async function timed(name: Check['name'], fn: () => Promise<string>): Promise<Check> {
  const t0 = Date.now();
  try {
    return { name, ok: true, detail: await fn(), ms: Date.now() - t0 };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, ms: Date.now() - t0 };
  }
}

/**
 * Checks that the three services the hub depends on answer, through the same clients the
 * hub uses (so a wrong URL in the configuration shows up here).
 */
export async function checkReadiness(config: Config): Promise<Check[]> {
  const quiet = createLogger({ component: 'readiness' }, { level: 'error' });
  return Promise.all([
    timed('kafka', async () => {
      const kafka = createKafka(config, { clientId: 'liandong-readiness', logger: quiet });
      const { brokers, controller } = await kafkaReady(kafka);
      return `${brokers} broker(s), controller ${controller}`;
    }),
    timed('registry', async () => {
      const { subjects } = await registryReady(config);
      return `${subjects} subject(s) at ${config.registry.url}`;
    }),
    timed('postgres', async () => {
      const db = createDb(config, { poolMax: 1 });
      try {
        const { version } = await dbReady(db);
        return `PostgreSQL ${version}`;
      } finally {
        await db.destroy();
      }
    }),
  ]);
}
