// Whether a module is the process's entry point (`npm run api`, `npm run worker`).
// Node 24 sets import.meta.main; tsx leaves it unset, so compare paths as a fallback.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function isEntryPoint(meta: ImportMeta): boolean {
  const main = (meta as ImportMeta & { main?: boolean }).main;
  if (main !== undefined) return main;
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(meta.url);
}
