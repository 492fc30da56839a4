// Short-lived access tokens: HS256 JWTs (jose) whose `sid` claim names a row in `sessions`.
// The signature and expiry are checked here; that the session is still live (not revoked,
// not expired) is checked against the database on every request by authenticate().
import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { UnauthorizedError } from '../errors.ts';

const ISSUER = 'quarry';
const AUDIENCE = 'quarry-api';
const Claims = z.object({ sub: z.uuid(), sid: z.uuid() });

export interface AccessClaims {
  readonly userId: string;
  readonly sessionId: string;
}

export interface TokenService {
  readonly ttlSeconds: number;
  issue(claims: AccessClaims, expiresAt: Date): Promise<string>;
  /** The claims of a valid token; throws UnauthorizedError for anything else. */
  verify(token: string): Promise<AccessClaims>;
}

/**
 * The signing secret: JWT_SECRET, or in development and tests a random one for this process
 * (its tokens die with it, and replicas would not share it), announced by a warning.
 */
export function resolveJwtSecret(config: Pick<Config, 'JWT_SECRET' | 'NODE_ENV'>, logger: Logger): string {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  if (config.NODE_ENV === 'production') throw new Error('JWT_SECRET is required in production');
  logger.warn('JWT_SECRET is not set: using a random secret, so tokens will not survive a restart');
  return randomBytes(32).toString('base64url');
}

export function createTokenService(options: { secret: string; ttlSeconds: number }): TokenService {
  const key = new TextEncoder().encode(options.secret);
  return {
    ttlSeconds: options.ttlSeconds,
    issue: (claims, expiresAt) =>
      new SignJWT({ sid: claims.sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(key),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
        const claims = Claims.safeParse(payload);
        if (!claims.success) throw new UnauthorizedError('invalid_token', 'The token is not valid');
        return { userId: claims.data.sub, sessionId: claims.data.sid };
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new UnauthorizedError('invalid_token', 'The token has expired');
        if (error instanceof errors.JOSEError) throw new UnauthorizedError('invalid_token', 'The token is not valid');
        throw error;
      }
    },
  };
}
