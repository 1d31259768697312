import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { Express, Request, Response } from 'express';
import { FaultInjector, FaultOptions, FaultStats } from './faults';

/**
 * What the enforcement and hotline simulators share: options, the handle a test holds,
 * Asia/Shanghai timestamps, query parsing and starting/stopping the HTTP server.
 */
export interface SimulatedApiOptions {
  seed: number;
  /** Records (penalty cases, tickets) the agency holds at start. */
  count: number;
  faults?: FaultOptions;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** 0 (default) = any free port. */
  port?: number;
}

/** The latest version of one record, as the API serves it now. */
export interface GroundTruthRecord {
  id: string;
  /** 'YYYY-MM-DD HH:mm:ss', Asia/Shanghai. */
  updated_at: string;
  /** JSON.stringify of the item exactly as the API serves it. */
  payload: string;
}

export interface SimulatedApi {
  /** Origin without a trailing slash, e.g. http://127.0.0.1:40123. */
  url: string;
  close(): Promise<void>;
  /** Adds n new records in later bursts; later versions of earlier records that fall due arrive too. */
  grow(n: number): void;
  /** Latest version of every record, in the API's order; lazy, so it also walks a million records. */
  groundTruth(): Generator<GroundTruthRecord>;
  /** Changes the injected faults from the next request on. */
  setFaults(options: FaultOptions): void;
  /** Live counters: read them after the requests of interest. */
  stats: FaultStats;
  /** Records held (not versions). */
  readonly count: number;
  /** The simulated clock: timestamp of the newest burst, or null while empty. */
  readonly asOf: string | null;
}

const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** Epoch seconds → 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai (UTC+8 all year, no DST). */
export function shanghaiTime(seconds: number): string {
  return new Date(seconds * 1000 + SHANGHAI_OFFSET_MS).toISOString().replace('T', ' ').slice(0, 19);
}

/** 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai → epoch seconds. */
export function shanghaiSeconds(text: string): number {
  const ms = parseTimestamp(text);
  if (ms === null) throw new RangeError(`not a timestamp: ${text}`);
  return Math.floor(ms / 1000);
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * ISO-8601 or the agencies' 'YYYY-MM-DD HH:mm:ss' → epoch milliseconds, or null. Without an
 * offset the time is Shanghai time, as the agencies mean it (not the server's local zone).
 */
export function parseTimestamp(text: string): number | null {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.round(Number(`0${frac || '.0'}`) * 1000));
  const check = new Date(wall);
  if (check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) return null;
  if (zone === undefined) return wall - SHANGHAI_OFFSET_MS;
  if (zone === 'Z') return wall;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return wall - sign * (Number(digits.slice(0, 2)) * 3_600_000 + Number(digits.slice(2)) * 60_000);
}

/** A 400 the way the hub answers one. Thrown by the query helpers, caught by `route`. */
export class BadRequest extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function single(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequest('BAD_REQUEST', `${name} must be given once`, { parameter: name });
  return value;
}

export function intParam(req: Request, name: string, fallback: number, min: number, max: number): number {
  const text = single(req, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new BadRequest('BAD_REQUEST', `${name} must be an integer from ${min} to ${max}`, { parameter: name, value: text });
  return n;
}

/** A time filter parameter → epoch milliseconds, or undefined when absent. */
export function timeParam(req: Request, name: string): number | undefined {
  const text = single(req, name);
  if (text === undefined || text === '') return undefined;
  const ms = parseTimestamp(text);
  if (ms === null) throw new BadRequest('BAD_REQUEST', `${name} must be ISO-8601 or 'YYYY-MM-DD HH:mm:ss'`, { parameter: name, value: text });
  return ms;
}

export function stringParam(req: Request, name: string): string | undefined {
  return single(req, name);
}

/** Wraps a handler so a BadRequest becomes a 400 body instead of Express's HTML error page. */
export function route(handler: (req: Request) => unknown) {
  return (req: Request, res: Response) => {
    try {
      res.json(handler(req));
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      res.status(400).json({ code: error.code, message: error.message, details: error.details });
    }
  };
}

/** An Express app with the fault injector in front and JSON 404s behind `mount`. */
export function createSimulatorApp(faults: FaultInjector, mount: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag'); // a 304 would hide a page from a client that just wants the data
  app.use(faults.middleware());
  mount(app);
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ code: 'NOT_FOUND', message: 'no such route', details: {} });
  });
  return app;
}

/** Listens on 127.0.0.1; `close` also drops keep-alive sockets, which would otherwise hold it open. */
export function listen(app: Express, port: number, faults: FaultInjector): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, '127.0.0.1');
    server.once('error', reject);
    server.once('listening', () => {
      const { port: actual } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${actual}`,
        close: () =>
          new Promise<void>((done, fail) => {
            faults.cancelPending();
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
