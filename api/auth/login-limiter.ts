// Failed-login throttling per email and client address. Each attempt takes a point up front
// (so concurrent guesses cannot slip past the check), and a successful login gives the
// budget back. RateLimiterMemory keeps the counts in this process: a deployment with several
// API replicas must use a shared store (RateLimiterPostgres or RateLimiterRedis) instead.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../errors.ts';

export interface LoginLimiter {
  /** Takes one attempt from the budget; throws TooManyRequestsError when none is left. */
  attempt(email: string, ip: string): Promise<void>;
  /** Restores the full budget after a successful login. */
  succeeded(email: string, ip: string): Promise<void>;
}

export function createLoginLimiter(options: { maxFailures: number; windowSeconds: number }): LoginLimiter {
  const limiter = new RateLimiterMemory({
    keyPrefix: 'login',
    points: options.maxFailures,
    duration: options.windowSeconds,
  });
  const keyOf = (email: string, ip: string) => `${email}|${ip}`;
  return {
    async attempt(email, ip) {
      try {
        await limiter.consume(keyOf(email, ip));
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        throw new TooManyRequestsError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      }
    },
    async succeeded(email, ip) {
      await limiter.delete(keyOf(email, ip));
    },
  };
}
