// What a document job and the documents table both say about a document: who may see it and how
// it came in. A leaf, like contract/jobs.ts.

export const DOCUMENT_VISIBILITIES = ['tenant', 'private'] as const;
export type DocumentVisibility = (typeof DOCUMENT_VISIBILITIES)[number];

export const DOCUMENT_SOURCES = ['upload', 'text', 'gmail'] as const;
export type DocumentSource = (typeof DOCUMENT_SOURCES)[number];
