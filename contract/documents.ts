// What a document job and the documents table both say about a document: who may see it and how
// it came in. A leaf, like contract/jobs.ts.

export const DOCUMENT_VISIBILITIES = ['tenant', 'private'] as const;
export type DocumentVisibility = (typeof DOCUMENT_VISIBILITIES)[number];

export const DOCUMENT_SOURCES = ['upload', 'text', 'gmail'] as const;
export type DocumentSource = (typeof DOCUMENT_SOURCES)[number];

/**
 * What a search may be narrowed to by where its documents came from: a document source, or a
 * name for several. `email` is synced mail (`gmail` documents: each email with its attachments);
 * `documents` is everything else (uploads and texts).
 */
export const SEARCH_SOURCES = [...DOCUMENT_SOURCES, 'email', 'documents'] as const;
export type SearchSource = (typeof SEARCH_SOURCES)[number];

/** The document sources a search source stands for. */
export function documentSourcesOf(source: SearchSource): readonly DocumentSource[] {
  if (source === 'email') return ['gmail'];
  if (source === 'documents') return DOCUMENT_SOURCES.filter((each) => each !== 'gmail');
  return [source];
}
