// The worker's activities, built from injected dependencies (see worker.ts). Workflows
// import this module as a type only: `proxyActivities<Activities>()`.
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import type { Config } from '../config.ts';
import { createJobActivities } from './jobs/index.ts';
import { createMaintenanceActivities } from './maintenance/index.ts';

export interface ActivityDeps {
  readonly config: Config;
  readonly pool: DatabasePool;
  readonly temporal: Client;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createJobActivities(deps),
    ...createMaintenanceActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
