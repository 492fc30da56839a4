// The API process: reads config, opens the PostgreSQL pool and the Temporal client, listens,
// and shuts down gracefully on SIGTERM/SIGINT (stop accepting, let requests in flight
// finish, then close the pool and the Temporal connection). `npm run api` runs this file;
// the dev launcher calls startApiServer() instead.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../config.ts';
import { isEntryPoint } from '../entry-point.ts';
import { createDatabasePool } from '../db/pool.ts';
import { createEmbedder } from '../rag/embed/factory.ts';
import { API_CALL_ATTEMPTS, createTemporalClient } from '../workflow-client/connection.ts';
import { createApp } from './app.ts';

/** How long requests in flight may take to finish once shutdown starts. */
const DRAIN_TIMEOUT_MS = 10_000;
/**
 * How long an idle keep-alive connection stays open. Node's default (5 s) is shorter than what
 * clients and load balancers assume (ALBs keep 60 s), so a client that reuses a connection just as
 * the server closes it gets ECONNRESET; the server must outlast them. Headers get a moment more.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface RunningApi {
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

export async function startApiServer(config: Config, logger?: Logger): Promise<RunningApi> {
  const log = logger ?? pino({ level: config.LOG_LEVEL, name: 'quarry-api' });
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: config.DATABASE_POOL_SIZE });
  const temporal = await createTemporalClient(config, { callAttempts: API_CALL_ATTEMPTS }).catch(
    async (error: unknown) => {
      await pool.end();
      throw error;
    },
  );

  // Queries are embedded in the process (a local model in a thread of its own): loaded, and its
  // files verified, before the first request rather than by it.
  const embedder = createEmbedder(config);
  try {
    await embedder.warmUp?.();
  } catch (error) {
    await Promise.all([pool.end(), temporal.close()]);
    throw error;
  }

  const app = createApp({ config, pool, temporal: temporal.client, logger: log, embedder });
  const handle = app.callback();
  const server = http.createServer((request, response) => void handle(request, response));
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  server.listen(config.API_PORT, config.API_HOST);
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log.info({ url }, 'API listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('API shutting down');
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      const forced = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
      await drained;
      clearTimeout(forced);
      await pool.end();
      await temporal.close();
      await embedder.close?.();
      log.info('API stopped');
    })());
  return { url, server, close };
}

if (isEntryPoint(import.meta)) {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, name: 'quarry-api' });
  const api = await startApiServer(config, logger);
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received');
    api.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
