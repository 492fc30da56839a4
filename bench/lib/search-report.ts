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
  /** Mean recall@k of the lexical leg against BM25 computed from every chunk's tsv. */
  readonly lexicalRecall: number;
  /** Medians over the runs of each run's p95, in milliseconds. */
  readonly p95: {
    readonly dense: number;
    readonly unfiltered: number;
    readonly lexical: number;
    readonly hybrid: number;
  };
}

export interface SearchReport {
  readonly generatedAt: string;
  readonly machine: Record<string, string | number>;
  readonly settings: Record<string, unknown>;
  readonly load: { readonly chunks: number; readonly seconds: number; readonly indexBuilds: Record<string, number> };
  /** Bytes of the chunks table, its indexes and TOAST, and the lexical tables and indexes. */
  readonly sizes: Readonly<Record<string, number>>;
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
    [
      'Tenant (share of rows)',
      'Chunks',
      'Dense plan',
      'Recall@10',
      '≥ 0.95',
      'Plain HNSW scan recall@10',
      'Lexical recall@10',
      '≥ 0.95',
    ],
    tenants.map((t) => [
      t.label,
      t.chunks.toLocaleString('en-US'),
      Object.entries(t.strategies)
        .map(([strategy, count]) => `${strategy} ×${count}`)
        .join(', '),
      t.recall.toFixed(3),
      verdict(t.recall >= 0.95),
      t.plainRecall.toFixed(3),
      t.lexicalRecall.toFixed(3),
      verdict(t.lexicalRecall >= 0.95),
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
    ['Tenant', 'Dense p95', 'Lexical p95', 'Hybrid p95', 'Hybrid ÷ dense', '≤ 1.5×'],
    tenants.map((t) => [
      t.label,
      ms(t.p95.dense),
      ms(t.p95.lexical),
      ms(t.p95.hybrid),
      ratio(t.p95.hybrid / t.p95.dense),
      verdict(t.p95.hybrid <= 1.5 * t.p95.dense),
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
    '## Tenant-filtered recall (dense search against exact search over the same candidates; the lexical leg against BM25 computed from every chunk)',
    '',
    recall,
    '',
    '## Filtered latency (dense search of one tenant against an unfiltered index search of the whole table)',
    '',
    filtered,
    '',
    '## Hybrid latency',
    '',
    'The lexical leg reads the postings of the query’s terms in the tenant through lexical_postings’ primary key ' +
      '(migrations/10_bm25.sql); the hybrid search runs both legs and fuses them.',
    '',
    hybrid,
    '',
    '## Sizes',
    '',
    table(
      ['Relation', 'Size'],
      Object.entries(report.sizes).map(([name, bytes]) => [name, `${(bytes / 2 ** 20).toFixed(1)} MiB`]),
    ),
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
