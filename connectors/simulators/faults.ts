import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Draws, mix } from './draws';

/**
 * What goes wrong with a real agency API, on demand: 500s, 429s with Retry-After, answers
 * slow enough to trip a client's timeout, a revoked credential. Which request fails is
 * drawn from (seed, request number), so a failing connector test replays the same way.
 */
export interface FaultOptions {
  /** Share of requests answered 500 (0..1). */
  errorRate?: number;
  /** Share of requests answered 429 with a Retry-After header (0..1). */
  throttleRate?: number;
  /** Retry-After, in whole seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Share of requests answered only after `slowMs` (0..1); the answer itself is correct. */
  slowRate?: number;
  /** Delay of a slow answer. Default 5000. */
  slowMs?: number;
  /** Every request fails this way, whatever the rates: a revoked token or a down backend. */
  permanent?: 'unauthorized' | 'server_error' | null;
}

export type FaultKind = 'error' | 'throttle' | 'slow' | 'unauthorized';

export interface FaultStats {
  /** Every request received, including refused ones. */
  requests: number;
  /** Requests the injector failed or delayed (a missing token is not counted: that is the client's fault). */
  faults: number;
  byKind: Record<FaultKind, number>;
}

const SALT_THROTTLE = 11;
const SALT_ERROR = 12;
const SALT_SLOW = 13;

function rate(name: string, value: number | undefined): number {
  const r = value ?? 0;
  if (!(r >= 0 && r <= 1)) throw new RangeError(`faults.${name} must be between 0 and 1, got ${value}`);
  return r;
}

export class FaultInjector {
  readonly stats: FaultStats = { requests: 0, faults: 0, byKind: { error: 0, throttle: 0, slow: 0, unauthorized: 0 } };
  private options: Required<Omit<FaultOptions, 'permanent'>> & { permanent: FaultOptions['permanent'] };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly seed: number,
    options: FaultOptions = {},
    private readonly token?: string,
  ) {
    this.options = FaultInjector.validate(options);
  }

  private static validate(o: FaultOptions) {
    return {
      errorRate: rate('errorRate', o.errorRate),
      throttleRate: rate('throttleRate', o.throttleRate),
      slowRate: rate('slowRate', o.slowRate),
      retryAfterSeconds: o.retryAfterSeconds ?? 1,
      slowMs: o.slowMs ?? 5000,
      permanent: o.permanent ?? null,
    };
  }

  /** Changes the faults from the next request on, e.g. to let an outage end mid-test. */
  set(options: FaultOptions): void {
    this.options = FaultInjector.validate(options);
  }

  private count(kind: FaultKind): void {
    this.stats.faults++;
    this.stats.byKind[kind]++;
  }

  /** Express middleware that runs before the route: authenticates, then maybe fails or delays. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const sequence = this.stats.requests++;
      const o = this.options;
      if (this.token !== undefined && req.get('authorization') !== `Bearer ${this.token}`) {
        res.status(401).set('WWW-Authenticate', 'Bearer').json({ code: 'UNAUTHORIZED', message: 'a valid Bearer token is required' });
        return;
      }
      if (o.permanent === 'unauthorized') {
        this.count('unauthorized');
        res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').json({ code: 'UNAUTHORIZED', message: 'token revoked' });
        return;
      }
      if (o.permanent === 'server_error') {
        this.count('error');
        res.status(500).json({ code: 'INTERNAL', message: 'simulated outage' });
        return;
      }
      // Independent draws per kind, so raising one rate never reshuffles which requests get another.
      if (new Draws(mix(this.seed, sequence, SALT_THROTTLE)).chance(o.throttleRate)) {
        this.count('throttle');
        res.status(429).set('Retry-After', String(o.retryAfterSeconds)).json({ code: 'RATE_LIMITED', message: 'too many requests' });
        return;
      }
      if (new Draws(mix(this.seed, sequence, SALT_ERROR)).chance(o.errorRate)) {
        this.count('error');
        res.status(500).json({ code: 'INTERNAL', message: 'simulated server error' });
        return;
      }
      if (new Draws(mix(this.seed, sequence, SALT_SLOW)).chance(o.slowRate)) {
        this.count('slow');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          next();
        }, o.slowMs);
        this.timers.add(timer);
        return;
      }
      next();
    };
  }

  /** Drops delayed answers still waiting, so closing the server does not wait for them. */
  cancelPending(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
