// The search benchmark's results: bench/results/search.json (settings, every run, medians)
// and search.md (the tables, also printed).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TenantFigures {
  readonly label: string;
  readonly share: number;
  readonly chunks: number;
  /** How the dense search chose to search, per query. */
  readonly strategies: Readonly<Record<string, number>>;
  readonly recall: number;
  readonly plainRecall: number;
  /** Medians over the runs of each run's p95, in milliseconds. */
  readonly p95: {
    readonly dense: number;
    readonly unfiltered: number;
    readonly lexical: number;
    readonly hybrid: number;
    readonly lexicalLeakproof: number;
    readonly hybridLeakproof: number;
  };
}

export interface SearchReport {
  readonly generatedAt: string;
  readonly machine: Record<string, string | number>;
  readonly settings: Record<string, unknown>;
  readonly load: { readonly chunks: number; readonly seconds: number; readonly indexBuilds: Record<string, number> };
  readonly tenants: readonly TenantFigures[];
  /** Every run's p95 per tenant and series, for whoever wants more than the medians. */
  readonly runs: readonly Record<string, Record<string, number>>[];
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number) => `${value.toFixed(2)}×`;
const verdict = (ok: boolean) => (ok ? 'yes' : '**no**');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function markdown(report: SearchReport): string {
  const { load, tenants } = report;
  const recall = table(
    ['Tenant (share of rows)', 'Chunks', 'Dense plan', 'Recall@10', '≥ 0.95', 'Plain HNSW scan recall@10'],
    tenants.map((t) => [
      t.label,
      t.chunks.toLocaleString('en-US'),
      Object.entries(t.strategies)
        .map(([strategy, count]) => `${strategy} ×${count}`)
        .join(', '),
      t.recall.toFixed(3),
      verdict(t.recall >= 0.95),
      t.plainRecall.toFixed(3),
    ]),
  );
  const filtered = table(
    ['Tenant', 'Dense p95 (tenant)', 'Unfiltered p95', 'Ratio', '≤ 2×'],
    tenants.map((t) => [
      t.label,
      ms(t.p95.dense),
      ms(t.p95.unfiltered),
      ratio(t.p95.dense / t.p95.unfiltered),
      verdict(t.p95.dense <= 2 * t.p95.unfiltered),
    ]),
  );
  const hybrid = table(
    [
      'Tenant',
      'Dense p95',
      'Lexical p95',
      'Hybrid p95',
      'Hybrid ÷ dense',
      '≤ 1.5×',
      'Lexical p95, LEAKPROOF',
      'Hybrid p95, LEAKPROOF',
      'Hybrid ÷ dense',
      '≤ 1.5×',
    ],
    tenants.map((t) => [
      t.label,
      ms(t.p95.dense),
      ms(t.p95.lexical),
      ms(t.p95.hybrid),
      ratio(t.p95.hybrid / t.p95.dense),
      verdict(t.p95.hybrid <= 1.5 * t.p95.dense),
      ms(t.p95.lexicalLeakproof),
      ms(t.p95.hybridLeakproof),
      ratio(t.p95.hybridLeakproof / t.p95.dense),
      verdict(t.p95.hybridLeakproof <= 1.5 * t.p95.dense),
    ]),
  );
  const builds = Object.entries(load.indexBuilds)
    .map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`)
    .join(', ');
  return [
    `# Search benchmark`,
    '',
    `${report.generatedAt} · ${Object.entries(report.machine)
      .map(([key, value]) => `${key} ${value}`)
      .join(' · ')}`,
    '',
    `${load.chunks.toLocaleString('en-US')} chunks (384-dimensional vectors of the local embedder over generated text), ` +
      `loaded in ${load.seconds.toFixed(0)} s through INSERT … SELECT under each tenant's context; index builds: ${builds}. ` +
      `Latencies are one search call (a withTenant transaction, k = 10, the query embedded), medians over the runs ` +
      `of each run's p95. Settings: ${JSON.stringify(report.settings)}.`,
    '',
    '## Tenant-filtered recall (dense search against exact search over the same candidates)',
    '',
    recall,
    '',
    '## Filtered latency (dense search of one tenant against an unfiltered index search of the whole table)',
    '',
    filtered,
    '',
    '## Hybrid latency',
    '',
    'Under row-level security `@@` is not LEAKPROOF, so the lexical leg reads the whole tenant through its btree. ' +
      'The LEAKPROOF columns repeat the runs after a superuser ran ' +
      '`ALTER FUNCTION ts_match_vq(tsvector, tsquery) LEAKPROOF`, which lets the planner use the GIN index ahead of the policy.',
    '',
    hybrid,
    '',
  ].join('\n');
}

export function writeReport(report: SearchReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'search.json'), `${JSON.stringify(report, null, 2)}\n`);
  const text = markdown(report);
  writeFileSync(path.join(dir, 'search.md'), text);
  return text;
}
