// Readiness checks of the API's dependencies, each bounded by a timeout so that a hung
// dependency makes /readyz answer 503 promptly rather than hang the probe.
import { setTimeout as delay } from 'node:timers/promises';
import { Connection, type Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { pingDatabase } from '../../../db/queries/health.ts';

export type CheckResult = 'ok' | 'failed';

export const READINESS_TIMEOUT_MS = 2000;
/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

async function bounded(check: () => Promise<void>): Promise<CheckResult> {
  const abort = new AbortController();
  const timeout = delay(READINESS_TIMEOUT_MS, 'failed' as const, { signal: abort.signal }).catch(
    () => 'failed' as const,
  );
  try {
    return await Promise.race([check().then(() => 'ok' as const), timeout]);
  } catch {
    return 'failed';
  } finally {
    abort.abort();
  }
}

export function checkPostgres(pool: DatabasePool): Promise<CheckResult> {
  return bounded(() => pingDatabase(pool));
}

export function checkTemporal(client: Client): Promise<CheckResult> {
  return bounded(async () => {
    const connection = client.connection;
    const deadline = Date.now() + READINESS_TIMEOUT_MS;
    if (connection instanceof Connection) {
      const { status } = await connection.withDeadline(deadline, () => connection.healthService.check({}));
      // The enum lives in @temporalio/proto, which is not a direct dependency: compare its number.
      if ((status as number | null | undefined) !== SERVING) throw new Error(`Temporal health status ${status}`);
    } else {
      await connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}));
    }
  });
}
