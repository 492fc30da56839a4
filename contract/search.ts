// The search modes, shared by the API's schemas, the search service and the query log. A leaf:
// it imports nothing of the project's.

/** dense: nearest vectors; lexical: full-text search; hybrid: both, fused by rank. */
export const SEARCH_MODES = ['dense', 'lexical', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

/** A leg of hybrid search: one way of finding chunks, whose ranked list is fused with the other's. */
export type SearchLeg = Exclude<SearchMode, 'hybrid'>;
