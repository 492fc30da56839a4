// The ingestion benchmark's results: bench/results/ingest.json (every run and the medians)
// and ingest.md (the table, also printed).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface RoundFigures {
  readonly chunks: number;
  readonly endToEndChunksPerSecond: number;
  readonly localEmbedderChunksPerSecond: number;
  readonly copyRowsPerSecond: number;
  readonly insertSelectRowsPerSecond: number;
  readonly ingestionPathRowsPerSecond: number;
  readonly onnxPassagesPerSecond: number;
  readonly onnxCpuMsPerPassage: number;
  /** The bench process's resident memory (API, worker and the model's thread) after the round. */
  readonly residentMb: number;
  /** P4: documents per second end to end (API → Temporal → PostgreSQL) and in-process, per size. */
  readonly smallEndToEndDocumentsPerSecond: number;
  readonly smallInProcessDocumentsPerSecond: number;
  /** The same for other abstracts sent as batches (POST /v1/documents/batch), and in-process. */
  readonly batchEndToEndDocumentsPerSecond: number;
  readonly batchInProcessDocumentsPerSecond: number;
  readonly largeEndToEndDocumentsPerSecond: number;
  readonly largeInProcessDocumentsPerSecond: number;
}

export interface IngestReport {
  readonly generatedAt: string;
  readonly machine: Record<string, string | number>;
  readonly settings: Record<string, string | number>;
  readonly runs: readonly RoundFigures[];
  readonly medians: RoundFigures;
}

const KEYS = ['small', 'batch', 'large'] as const;
const rate = (value: number) => Math.round(value).toLocaleString('en-US');
const percent = (value: number) => `${(value * 100).toFixed(0)}%`;

export function markdownTable(report: IngestReport): string {
  const m = report.medians;
  const rows: [string, string, string, string][] = [
    [
      'End to end: API → Temporal → PostgreSQL, hash embedder',
      `${rate(m.endToEndChunksPerSecond)} chunks/s`,
      percent(m.endToEndChunksPerSecond / m.copyRowsPerSecond),
      'state the ratio',
    ],
    [
      'RLS write path: INSERT … SELECT FROM unnest, quarry_app under withTenant, rows with vectors',
      `${rate(m.insertSelectRowsPerSecond)} rows/s`,
      percent(m.insertSelectRowsPerSecond / m.copyRowsPerSecond),
      '≥ 50%',
    ],
    [
      'RLS ingestion path: chunk rows, then vectors by UPDATE … FROM unnest (batches of the embed step)',
      `${rate(m.ingestionPathRowsPerSecond)} rows/s`,
      percent(m.ingestionPathRowsPerSecond / m.copyRowsPerSecond),
      '',
    ],
    [
      'Baseline: COPY … (FORMAT binary) as table owner, no RLS, same indexes',
      `${rate(m.copyRowsPerSecond)} rows/s`,
      '100%',
      '',
    ],
    ['For reference: the hash embedder alone (in process)', `${rate(m.localEmbedderChunksPerSecond)} chunks/s`, '', ''],
    [
      'The neural embedder (ONNX all-MiniLM-L6-v2, its thread), 256-token passages',
      `${m.onnxPassagesPerSecond.toFixed(1)} passages/s, ${m.onnxCpuMsPerPassage.toFixed(0)} CPU-ms each`,
      '',
      'as fast as the model allows',
    ],
    ['Resident memory of the process (API, worker, model loaded)', `${rate(m.residentMb)} MiB`, '', ''],
  ];
  const p4: [string, number, number, string][] = [
    [
      `Small: SciFact abstracts, 1–3 chunks, ${report.settings.smallConcurrency} at a time`,
      m.smallEndToEndDocumentsPerSecond,
      m.smallInProcessDocumentsPerSecond,
      '≥ 0.5',
    ],
    [
      `Small, batch import: SciFact abstracts, ${report.settings.batchFiles} files per POST /v1/documents/batch, ${report.settings.batchRequests} requests at a time`,
      m.batchEndToEndDocumentsPerSecond,
      m.batchInProcessDocumentsPerSecond,
      '≥ 0.5',
    ],
    [
      `Large: ${rate(m.chunks / Number(report.settings.documentsPerRun))} chunks each, ${report.settings.uploadConcurrency} at a time`,
      m.largeEndToEndDocumentsPerSecond,
      m.largeInProcessDocumentsPerSecond,
      '≥ 0.7',
    ],
  ];
  /**
   * The ratio of the geometric means of the rounds' rates: rounds of both orders (bench/ingest.ts)
   * count alike, which the ratio of two medians over an odd split would not.
   */
  const geometric = (values: readonly number[]) =>
    Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length);
  const ratioOf = (key: 'small' | 'batch' | 'large') =>
    geometric(report.runs.map((run) => run[`${key}EndToEndDocumentsPerSecond`])) /
    geometric(report.runs.map((run) => run[`${key}InProcessDocumentsPerSecond`]));
  const ratios = (key: 'small' | 'batch' | 'large') =>
    report.runs
      .map((run) => (run[`${key}EndToEndDocumentsPerSecond`] / run[`${key}InProcessDocumentsPerSecond`]).toFixed(2))
      .join(', ');
  const settings = Object.entries(report.settings)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  return [
    `# Ingestion benchmark (\`npm run bench:ingest\`)`,
    '',
    `Medians of ${report.runs.length} runs of ${rate(m.chunks)} chunks each, after one warm-up run; ${report.generatedAt}.`,
    `Machine: ${Object.values(report.machine).join(', ')}. Settings: ${settings}.`,
    '',
    'Every path writes into a table with the same indexes (HNSW on the vector, GIN on the tsvector, btrees), ' +
      'whose upkeep is most of the cost; the write paths run one statement per batch, each in its own transaction.',
    '',
    '| Measure | Median | vs COPY baseline | Target |',
    '|---|---:|---:|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    '## P4: end to end against the same pipeline in-process',
    '',
    'The same documents through the API, Temporal and the worker, and through the same activity functions ' +
      'called one after the other in this process (register, then buildDocument for a small original or the steps for a larger one, as the worker does; no Temporal, no HTTP, no job events), at the same ' +
      'concurrency, hash embedder, in the same round; rates are medians of the rounds, the ratio is that of the ' +
      "rounds' geometric means (each side goes first in half the rounds).",
    '',
    '| Documents | End to end | In-process | Ratio | Target | Ratio per round |',
    '|---|---:|---:|---:|---|---|',
    ...p4.map(
      ([name, e2e, inProcess, target], index) =>
        `| ${name} | ${e2e.toFixed(1)} docs/s | ${inProcess.toFixed(1)} docs/s | ${ratioOf(KEYS[index]!).toFixed(2)} | ${target} | ${ratios(KEYS[index]!)} |`,
    ),
    '',
  ].join('\n');
}

/** Writes ingest.json and ingest.md into `dir`; returns the Markdown. */
export function writeReport(dir: string, report: IngestReport): string {
  mkdirSync(dir, { recursive: true });
  const markdown = markdownTable(report);
  writeFileSync(path.join(dir, 'ingest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, 'ingest.md'), markdown);
  return markdown;
}
