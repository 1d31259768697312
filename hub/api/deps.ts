import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { RequestHandler } from 'express';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/log';
import type { SourceDefinition } from '../../pipelines/normalise/mapping';
import type { ApiRoute } from './route';

/** What every part of the exchange API is built from (a hub Runtime provides all of it). */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  kafka: Kafka;
  registry: SchemaRegistry;
  db: Knex;
  sources: Map<string, SourceDefinition>;
  piiSecret: string;
}

/**
 * A part of the API: its routes, middleware that must see every request (audit, metrics), and
 * what it runs in the background (a producer, a consumer), started before the server listens
 * and stopped after it closes.
 */
export interface ApiModule {
  routes?: ApiRoute[];
  /** Mounted before the routes, in module order, on every request (not only /v1). */
  middleware?: RequestHandler[];
  /** Mounted outside /v1 (e.g. /metrics), no key required. */
  outside?: (app: import('express').Express) => void;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type ApiModuleFactory = (deps: ApiDeps) => ApiModule;
