// What a search may be narrowed to, as conditions on the document (alias `d`) that every leg
// shares: only documents with an active version are searchable, and only that version's
// chunks (alias `c`) are served, whatever else a re-ingestion has written meanwhile. The
// tenant is named outright, beside the policy, so that the planner reaches the tenant's rows
// through its btree indexes with real statistics.
import { sql, type FragmentSqlToken, type ListSqlToken } from 'slonik';
import type { DocumentSource } from '../../../contract/documents.ts';

export interface SearchFilters {
  readonly documentIds?: readonly string[];
  /** Documents carrying at least one of `any` and every one of `all`. */
  readonly tags?: { readonly any?: readonly string[]; readonly all?: readonly string[] };
  /** Document creation time: at or after `createdAfter`, before `createdBefore`. */
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
  /** Documents of one of these sources; an empty list matches none. */
  readonly sources?: readonly DocumentSource[];
}

/** Whether the filters narrow anything beyond the tenant's searchable documents. */
export function hasFilters(filters: SearchFilters = {}): boolean {
  return Boolean(
    filters.documentIds?.length ||
    filters.tags?.any?.length ||
    filters.tags?.all?.length ||
    filters.createdAfter ||
    filters.createdBefore ||
    filters.sources,
  );
}

/** The condition on `d` of the tenant's searchable documents that pass the filters. */
export function searchableDocuments(tenantId: string, filters: SearchFilters = {}): ListSqlToken {
  const conditions = [sql.fragment`d.tenant_id = ${tenantId}`, sql.fragment`d.active_version IS NOT NULL`];
  if (filters.documentIds?.length) conditions.push(sql.fragment`d.id = ANY(${sql.array(filters.documentIds, 'uuid')})`);
  if (filters.tags?.any?.length) conditions.push(sql.fragment`d.tags && ${sql.array(filters.tags.any, 'text')}`);
  if (filters.tags?.all?.length) conditions.push(sql.fragment`d.tags @> ${sql.array(filters.tags.all, 'text')}`);
  if (filters.createdAfter) conditions.push(sql.fragment`d.created_at >= ${sql.timestamp(filters.createdAfter)}`);
  if (filters.createdBefore) conditions.push(sql.fragment`d.created_at < ${sql.timestamp(filters.createdBefore)}`);
  if (filters.sources) conditions.push(sql.fragment`d.source = ANY(${sql.array(filters.sources, 'text')})`);
  return sql.join(conditions, sql.fragment` AND `);
}

/** `FROM`-clause items and `WHERE` of the searchable chunks, as `c` joined to `d`. */
export function searchableChunks(tenantId: string, filters: SearchFilters = {}): FragmentSqlToken {
  return sql.fragment`
    chunks c JOIN documents d ON d.id = c.document_id AND d.active_version = c.version
    WHERE c.tenant_id = ${tenantId} AND ${searchableDocuments(tenantId, filters)}
  `;
}
