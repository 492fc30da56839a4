// Custom search attributes every Quarry workflow sets, so operators can filter the
// Temporal Web UI by tenant, kind of job and status. Registered at server start.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  TenantId: 'Keyword',
  JobKind: 'Keyword',
  JobStatus: 'Keyword',
  JobSubject: 'Keyword',
} as const;

export const TenantIdKey = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const JobKindKey = defineSearchAttributeKey('JobKind', SearchAttributeType.KEYWORD);
export const JobStatusKey = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);
export const JobSubjectKey = defineSearchAttributeKey('JobSubject', SearchAttributeType.KEYWORD);
