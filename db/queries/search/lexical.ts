// The lexical leg: PostgreSQL full-text search over the stored `tsv` column, the query read
// as a web search would read it (websearch_to_tsquery: "quoted phrases", OR, -exclusions),
// ranked by cover density (ts_rank_cd). The query text is normalised by app_search_text, as
// the chunks' text was when indexed (migrations/9_text_normalisation.sql), and each chunk is
// matched with the query parsed in that chunk's own configuration (english or simple).
//
// Under row-level security the planner may not evaluate a function that is not LEAKPROOF
// (as `@@` is not) ahead of the policy, so the GIN index on `tsv` cannot narrow the scan.
// The query therefore names the tenant itself: the tenant btree finds the tenant's rows
// first, and `@@` runs on those alone, never on another tenant's. The cost grows with the
// tenant's size, not the table's (measured in bench/results/search.md). Where an operator
// has marked `ts_match_vq` LEAKPROOF as a superuser, the same query uses the GIN index.
import { sql } from 'slonik';
import type { TenantConnection } from '../../with-tenant.ts';
import { searchableChunks, type SearchFilters } from './filters.ts';
import { ChunkHit, hitColumns } from './hits.ts';

export interface LexicalQuery {
  readonly tenantId: string;
  readonly text: string;
  readonly k: number;
  readonly filters?: SearchFilters;
}

/** The query in the configuration the chunk was indexed with. */
const chunkQuery = sql.fragment`(CASE c.ts_config WHEN 'english' THEN q.english ELSE q.simple END)`;
/** The match, written as an OR of the two so that each side can use the GIN index (a CASE cannot). */
const matches = sql.fragment`(
  (c.ts_config = 'english' AND c.tsv @@ q.english) OR (c.ts_config = 'simple' AND c.tsv @@ q.simple)
)`;

export function lexicalSearch(tx: TenantConnection, query: LexicalQuery): Promise<readonly ChunkHit[]> {
  return tx.any(sql.type(ChunkHit)`
    SELECT ${hitColumns}, ts_rank_cd(c.tsv, ${chunkQuery})::float8 AS score
    FROM (SELECT websearch_to_tsquery('english', t.text) AS english, websearch_to_tsquery('simple', t.text) AS simple
          FROM (SELECT app_search_text(${query.text}) AS text) AS t) AS q,
         ${searchableChunks(query.tenantId, query.filters)} AND ${matches}
    ORDER BY score DESC, c.id
    LIMIT ${query.k}
  `);
}
