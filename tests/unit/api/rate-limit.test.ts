import { ApiError } from '../../../hub/api/http-errors';
import { RateLimiter } from '../../../hub/api/rate-limit';

function refused(fn: () => void): ApiError | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

describe('the rate limiter (a token bucket per key)', () => {
  it('lets a burst through, then answers 429 RATE_LIMITED with the wait in seconds', () => {
    let now = 0;
    const limiter = new RateLimiter({ per_second: 2, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) expect(refused(() => limiter.take('k'))).toBeNull();
    const err = refused(() => limiter.take('k'));
    expect(err).toMatchObject({ status: 429, code: 'RATE_LIMITED', details: { retry_after_s: 1, per_second: 2, burst: 3 } });
  });

  it('refills at per_second and never holds more than burst', () => {
    let now = 0;
    const limiter = new RateLimiter({ per_second: 2, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) limiter.take('k');
    now = 500; // one token back
    expect(refused(() => limiter.take('k'))).toBeNull();
    expect(refused(() => limiter.take('k'))).not.toBeNull();
    now = 3_600_000; // an hour idle still gives only a burst
    for (let i = 0; i < 3; i++) expect(refused(() => limiter.take('k'))).toBeNull();
    expect(refused(() => limiter.take('k'))).not.toBeNull();
  });

  it('keeps each key in its own bucket', () => {
    const limiter = new RateLimiter({ per_second: 1, burst: 1 }, () => 0);
    limiter.take('a');
    expect(refused(() => limiter.take('a'))).not.toBeNull();
    expect(refused(() => limiter.take('b'))).toBeNull();
  });

  it('does not charge a refused request: waiting the advertised time is enough', () => {
    let now = 0;
    const limiter = new RateLimiter({ per_second: 0.5, burst: 1 }, () => now);
    limiter.take('k');
    for (let i = 0; i < 5; i++) expect(refused(() => limiter.take('k'))).not.toBeNull();
    const wait = refused(() => limiter.take('k'))!.details.retry_after_s as number;
    expect(wait).toBe(2);
    now += wait * 1000;
    expect(refused(() => limiter.take('k'))).toBeNull();
  });
});
