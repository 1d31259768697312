import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { Config, loadConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { createKafka } from '../lib/kafka-client';
import { createLogger, Logger } from '../lib/log';
import { createRegistry } from '../lib/registry-client';
import { piiSecret } from '../lib/secrets';
import { loadSources, SourceDefinition } from '../pipelines/normalise/mapping';

/**
 * Everything a long-running part of the hub needs, built once from the configuration:
 * clients for Kafka, the registry and PostgreSQL, the source definitions and the PII key.
 * Clients connect lazily; `close()` releases the database pool.
 */
export interface Runtime {
  config: Config;
  logger: Logger;
  kafka: Kafka;
  registry: SchemaRegistry;
  db: Knex;
  sources: Map<string, SourceDefinition>;
  piiSecret: string;
  close(): Promise<void>;
}

export function createRuntime(config: Config = loadConfig(), component = 'hub'): Runtime {
  const logger = createLogger({ component });
  const db = createDb(config);
  return {
    config,
    logger,
    kafka: createKafka(config, { logger }),
    registry: createRegistry(config),
    db,
    sources: loadSources(config.sources_dir),
    piiSecret: piiSecret(config),
    close: () => db.destroy(),
  };
}

/** Runs `fn` with a runtime and closes it afterwards, whatever happens (the CLI commands' shape). */
export async function withRuntime<T>(component: string, fn: (rt: Runtime) => Promise<T>, config: Config = loadConfig()): Promise<T> {
  const rt = createRuntime(config, component);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
