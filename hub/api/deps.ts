import type { Runtime } from '../runtime';
import type { RequestHandler } from 'express';
import type { ApiRoute } from './route';

/** What every part of the exchange API is built from: a hub Runtime's clients and settings. */
export type ApiDeps = Omit<Runtime, 'close'>;

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
