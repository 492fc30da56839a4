// createApp(deps): the Koa application, without listening. The middleware runs in this order:
// the error handler (first, so it shapes every failure), request id and log, metrics, the
// 404/405 answer for requests no route took, the drain of a body left part read once the response
// has gone out, the JSON body parser, then the routers.
import Koa from 'koa';
import { createLoginLimiter } from './auth/login-limiter.ts';
import { createPasswordHasher } from './auth/passwords.ts';
import { createTokenService, resolveJwtSecret } from './auth/tokens.ts';
import type { ApiContextExtension, ApiDeps, ApiServices, ApiState } from './context.ts';
import { createMetrics } from './metrics.ts';
import { drainBody } from './middleware/drain-body.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { jsonBody } from './middleware/json-body.ts';
import { recordMetrics } from './middleware/metrics.ts';
import { notFound } from './middleware/not-found.ts';
import { requestContext } from './middleware/request-context.ts';
import { buildOpenApiDocument } from './openapi/document.ts';
import { googleMailOf } from '../mail/google.ts';
import { pushVerifierOf } from '../mail/push.ts';
import { tokenCipherOf } from '../mail/token-cipher.ts';
import { LocalBlobStore } from '../storage/local-blob-store.ts';
import { createAnswerer } from '../rag/answer/factory.ts';
import { createEmbedder } from '../rag/embed/factory.ts';
import { createApiKeysRouter } from './routes/api-keys/router.ts';
import { createAskRouter } from './routes/ask/router.ts';
import { createAuthRouter } from './routes/auth/router.ts';
import { createConversationsRouter } from './routes/conversations/router.ts';
import { createDocumentsRouter } from './routes/documents/router.ts';
import { createJobsRouter } from './routes/jobs/router.ts';
import { createMailRouter } from './routes/mail/router.ts';
import { createMembersRouter } from './routes/members/router.ts';
import { createSearchRouter } from './routes/search/router.ts';
import { createStatsRouter } from './routes/stats/router.ts';
import { createSystemRouter } from './routes/system/router.ts';
import { createTenantsRouter } from './routes/tenants/router.ts';

export type ApiApp = Koa<ApiState, ApiContextExtension>;

const API_INFO = { title: 'Quarry API', version: '0.1.0' };

export function createApp(deps: ApiDeps): ApiApp {
  const { config, logger } = deps;
  const services: ApiServices = {
    ...deps,
    tokens: createTokenService({ secret: resolveJwtSecret(config, logger), ttlSeconds: config.JWT_TTL_SECONDS }),
    passwords: createPasswordHasher(),
    loginLimiter: createLoginLimiter({
      maxFailures: config.LOGIN_MAX_FAILURES,
      windowSeconds: config.LOGIN_WINDOW_SECONDS,
    }),
    metrics: createMetrics(),
    blobs: new LocalBlobStore(config.BLOB_DIR),
    embedder: deps.embedder ?? createEmbedder(config),
    answerer: deps.answerer ?? createAnswerer(config),
    bm25: { k1: config.BM25_K1, b: config.BM25_B },
    fusion: { method: config.HYBRID_FUSION, denseWeight: config.HYBRID_DENSE_WEIGHT },
    mail: { google: googleMailOf(config), cipher: tokenCipherOf(config), push: pushVerifierOf(config) },
  };

  const resources = [
    createAuthRouter(),
    createTenantsRouter(),
    createMembersRouter(),
    createApiKeysRouter(),
    createJobsRouter(),
    createDocumentsRouter(),
    createSearchRouter(),
    createAskRouter(),
    createConversationsRouter(),
    createStatsRouter(),
    createMailRouter(),
  ];
  let document: object | undefined;
  const system = createSystemRouter({
    openApiDocument: () => (document ??= buildOpenApiDocument([system, ...resources], API_INFO)),
  });

  const app: ApiApp = new Koa<ApiState, ApiContextExtension>();
  app.context.services = services;
  app.use(errorHandler({ bodyLimitBytes: config.BODY_LIMIT_BYTES }));
  app.use(requestContext());
  app.use(recordMetrics());
  app.use(notFound());
  app.use(drainBody());
  app.use(jsonBody({ limitBytes: config.BODY_LIMIT_BYTES, streamed: ['multipart/form-data'] }));
  for (const router of [system, ...resources]) app.use(router.routes()).use(router.allowedMethods());
  return app;
}
