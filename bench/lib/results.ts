// Where benchmarks leave their results: bench/results/<name>.json (every figure) and
// <name>.md (the table, also printed).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../config.ts';

export const resultsDir = path.join(projectRoot, 'bench', 'results');

/** The machine a benchmark ran on, as reports state it. */
export function machine(): string {
  return `${os.cpus().length} CPUs, Node ${process.version}, ${os.platform()} ${os.arch()}, load average ${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`;
}

/** Writes `<name>.json` and `<name>.md`; returns the Markdown. */
export function writeResults(name: string, report: unknown, markdown: string): string {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(resultsDir, `${name}.md`), markdown);
  return markdown;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const ratio = (value: number) => `${value.toFixed(2)}×`;
