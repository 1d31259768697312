import { ApiError } from './http-errors';

/**
 * A token bucket per key: `per_second` tokens flow in, at most `burst` are held, a request
 * takes one. A key over its rate gets 429 with Retry-After, without touching the database.
 * In memory, so each hub instance limits on its own.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: { per_second: number; burst: number }, private readonly now: () => number = Date.now) {}

  take(key: string): void {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.rate.burst, at: t };
    b.tokens = Math.min(this.rate.burst, b.tokens + ((t - b.at) / 1000) * this.rate.per_second);
    b.at = t;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      const wait = Math.ceil((1 - b.tokens) / this.rate.per_second);
      throw new ApiError(429, 'RATE_LIMITED', `this key is over its rate of ${this.rate.per_second} requests/s; retry in ${wait} s`, { retry_after_s: wait, per_second: this.rate.per_second, burst: this.rate.burst });
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
  }
}
