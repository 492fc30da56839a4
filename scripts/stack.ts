// `npm run stack`: provision and start PostgreSQL and Temporal, run migrations, then keep
// them running until interrupted. `npm run dev` does this and also starts the API and worker.
// When either service stops on its own, the launcher says which, how and where its log is,
// stops the other and exits 1 (scripts/lib/supervisor.ts).
import { loadConfig } from '../config.ts';
import { startStack } from './lib/stack.ts';
import { Supervisor } from './lib/supervisor.ts';

const config = loadConfig();
const supervisor = new Supervisor();
const stack = await startStack({
  dir: config.QUARRY_LOCAL_DIR,
  localDir: config.QUARRY_LOCAL_DIR,
  pgPort: config.QUARRY_PG_PORT,
  temporalPort: config.TEMPORAL_PORT,
  temporalUiPort: config.TEMPORAL_UI_PORT,
  persistTemporal: true,
  config,
});
supervisor.onStop(() => stack.stop());
stack.watch((death) => supervisor.serviceDied(death));
console.error(`quarry: stack running (PostgreSQL pid ${stack.pids.postgres}, Temporal pid ${stack.pids.temporal})`);
console.log(JSON.stringify({ ...stack.env, TEMPORAL_UI: stack.temporalUiUrl }, null, 2));
