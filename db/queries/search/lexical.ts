// The lexical leg: BM25 over the postings migrations/10_bm25.sql keeps for every chunk search
// serves, with OR semantics (a chunk needs any of the query's terms, not all of them), as
// Lucene ranks: for each query term t in chunk c,
//   idf(t) · tf · (k1 + 1) / (tf + k1 · (1 − b + b · |c| / avgdl)),  idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)),
// summed over the query's terms (a term the query repeats counts as often). N, avgdl and df are
// those of the chunks the searcher can see: the tenant's shared chunks and the searcher's own
// private ones, read from lexical_stats and counted from lexical_postings under their policies.
//
// The query text is normalised by app_search_text and analysed in both configurations chunks
// are indexed with (migration 9); each chunk's postings hold the terms of its own
// configuration, so an english chunk is matched on stems and a simple one on words.
//
// Every read is an index scan of lexical_postings' primary key, (tenant_id, ts_config, term, …):
// equality on uuid and text is LEAKPROOF, so the planner may use it ahead of the policy, and a
// search reads the postings of its own terms in its own tenant, never the whole tenant and never
// another tenant's rows. What is read grows with how common the query's terms are.
//
// Quoted phrases and -exclusions keep their web-search meaning, as constraints on the ranked
// chunks: a chunk must hold every quoted phrase (its words in order) and none of the excluded
// words, checked with `@@` on the candidates' tsv. The phrase's words also rank, like any other.
import { sql, type FragmentSqlToken } from 'slonik';
import type { TenantConnection } from '../../with-tenant.ts';
import { hasFilters, searchableDocuments, type SearchFilters } from './filters.ts';
import { ChunkHit, hitColumns, withMail } from './hits.ts';

export interface Bm25Parameters {
  /** Term-frequency saturation. */
  readonly k1: number;
  /** Length normalisation, 0 (none) to 1 (full). */
  readonly b: number;
}

/** Lucene's BM25 with Anserini's settings, those of BEIR's published BM25 figures. */
export const BM25_DEFAULTS: Bm25Parameters = { k1: 0.9, b: 0.4 };

export interface LexicalQuery {
  readonly tenantId: string;
  readonly text: string;
  readonly k: number;
  readonly filters?: SearchFilters;
  readonly bm25?: Partial<Bm25Parameters>;
}

/** A query read as a web search reads it: the words that rank, and the constraints. */
export interface ParsedQuery {
  /** The text whose terms rank chunks: the query without its exclusions. */
  readonly ranked: string;
  /** Quoted phrases and exclusions, in websearch_to_tsquery's syntax; null when there are none. */
  readonly constraints: string | null;
}

const QUOTES = /[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]/g;
/** A quoted phrase (possibly excluded), or an excluded word: `"…"`, `-"…"`, `-word`. */
const CONSTRAINT = /(^|\s)(-?)"([^"]*)"?|(^|\s)-([^\s"]+)/g;

export function parseQuery(text: string): ParsedQuery {
  const plain = text.replace(QUOTES, '"');
  const constraints: string[] = [];
  const ranked = plain.replace(
    CONSTRAINT,
    (_match, lead1?: string, minus?: string, phrase?: string, lead2?: string, word?: string): string => {
      if (word !== undefined) {
        constraints.push(`-${word}`);
        return lead2 ?? '';
      }
      const words = (phrase ?? '').trim();
      if (!words) return lead1 ?? '';
      constraints.push(`${minus ?? ''}"${words}"`);
      return minus ? (lead1 ?? '') : `${lead1 ?? ''}${words}`;
    },
  );
  return { ranked: ranked.replace(/\s+/g, ' ').trim(), constraints: constraints.length ? constraints.join(' ') : null };
}

export async function lexicalSearch(tx: TenantConnection, query: LexicalQuery): Promise<readonly ChunkHit[]> {
  const { k1, b } = { ...BM25_DEFAULTS, ...query.bm25 };
  const { ranked, constraints } = parseQuery(query.text);
  const tenant = query.tenantId;
  // Without filters or constraints every scored chunk is a result: rank the postings alone and
  // read only the k best chunks. Otherwise the candidates are checked first, then ranked.
  const narrowed = hasFilters(query.filters) || constraints !== null;
  const constraint: FragmentSqlToken =
    constraints === null
      ? sql.fragment`TRUE`
      : sql.fragment`(
          numnode(websearch_to_tsquery(app_ts_config(c.ts_config), app_search_text(${constraints}))) = 0
          OR c.tsv @@ websearch_to_tsquery(app_ts_config(c.ts_config), app_search_text(${constraints}))
        )`;
  return tx.any(sql.type(ChunkHit)`
    WITH query AS (SELECT app_search_text(${ranked}) AS text),
    terms AS (
      SELECT 'english' AS ts_config, t.lexeme AS term, cardinality(t.positions) AS qtf
      FROM query, unnest(to_tsvector('english', query.text)) AS t
      UNION ALL
      SELECT 'simple', t.lexeme, cardinality(t.positions)
      FROM query, unnest(to_tsvector('simple', query.text)) AS t
    ),
    stats AS (
      SELECT coalesce(sum(chunk_count), 0)::float8 AS n,
             coalesce(sum(total_length), 0)::float8 / greatest(coalesce(sum(chunk_count), 0), 1) AS avgdl
      FROM lexical_stats WHERE tenant_id = ${tenant}
    ),
    -- Each term's postings, read once: its document frequency is their count.
    postings AS (
      SELECT t.qtf, f.df, f.chunks, f.tfs, f.lengths
      FROM terms t
      CROSS JOIN LATERAL (
        SELECT count(*)::float8 AS df, array_agg(p.chunk_id) AS chunks, array_agg(p.tf) AS tfs,
               array_agg(p.length) AS lengths
        FROM lexical_postings p
        WHERE p.tenant_id = ${tenant} AND p.ts_config = t.ts_config AND p.term = t.term
      ) AS f
      WHERE f.df > 0
    ),
    scored AS (
      SELECT u.chunk_id,
             sum(p.qtf * ln(1 + (s.n - p.df + 0.5) / (p.df + 0.5)) * u.tf * (${k1}::float8 + 1)
                 / (u.tf + ${k1}::float8 * (1 - ${b}::float8 + ${b}::float8 * u.length / greatest(s.avgdl, 1)))) AS score
      FROM postings p
      CROSS JOIN stats s
      CROSS JOIN LATERAL unnest(p.chunks, p.tfs, p.lengths) AS u(chunk_id, tf, length)
      GROUP BY u.chunk_id
      ${narrowed ? sql.fragment`` : sql.fragment`ORDER BY score DESC, u.chunk_id LIMIT ${query.k}`}
    )
    ${withMail(
      sql.fragment`
        SELECT ${hitColumns}, s.score
        FROM scored s
        JOIN chunks c ON c.id = s.chunk_id
        JOIN documents d ON d.id = c.document_id AND d.active_version = c.version
        WHERE c.tenant_id = ${tenant} AND ${searchableDocuments(tenant, query.filters)} AND ${constraint}
        ORDER BY s.score DESC, c.id
        LIMIT ${query.k}
      `,
      sql.fragment`h.score DESC, h."chunkId"`,
    )}
  `);
}
