// The search modes, shared by the API's schemas, the search service and the query log. A leaf:
// it imports nothing of the project's.

/** dense: nearest vectors; lexical: full-text search; hybrid: both, fused by rank. */
export const SEARCH_MODES = ['dense', 'lexical', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

/**
 * How hybrid search fuses its legs: `convex`, the weighted sum of each leg's min-max-normalised
 * scores; `rrf`, reciprocal rank fusion (ranks only).
 */
export const FUSION_METHODS = ['convex', 'rrf'] as const;
export type FusionMethod = (typeof FUSION_METHODS)[number];

/** What results may be collapsed to: `document` keeps each document's best chunk alone. */
export const SEARCH_COLLAPSES = ['document'] as const;
export type SearchCollapse = (typeof SEARCH_COLLAPSES)[number];

/** A leg of hybrid search: one way of finding chunks, whose ranked list is fused with the other's. */
export type SearchLeg = Exclude<SearchMode, 'hybrid'>;

/**
 * The PostgreSQL text-search configurations a chunk is indexed with (chunks.ts_config):
 * 'english' stems and drops stopwords, 'simple' keeps each word as written.
 */
export const TEXT_SEARCH_CONFIGS = ['english', 'simple'] as const;
export type TextSearchConfig = (typeof TEXT_SEARCH_CONFIGS)[number];
