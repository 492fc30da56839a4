// Definitions shared by workflows, the worker and the API: task queues, job kinds,
// workflow-id derivation, and the input and result types of each workflow.
// Signals, updates and queries are defined here once, at module level.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DocumentVisibility, NewDocument } from '../db/queries/documents.ts';

/**
 * Ingestion has a queue of its own: extraction and embedding are CPU- and provider-bound and
 * come in bursts, so ingestion workers scale (and are throttled) apart from the platform's
 * small bookkeeping jobs, which a burst of uploads must never hold up.
 */
export const TASK_QUEUES = {
  platform: 'quarry-platform',
  ingestion: 'quarry-ingestion',
} as const;

export const JOB_KINDS = ['maintenance', 'ingestion', 'document-deletion', 'reembed'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Search-attribute value for jobs that belong to the platform rather than a tenant. */
export const PLATFORM_TENANT = 'platform';

/**
 * Workflow ids are derived from the subject, so that a repeated request attaches to the
 * running job instead of starting a second one: `<kind>:<tenant|platform>:<subject>`.
 */
export function workflowIdFor(kind: JobKind, tenantId: string | null, subject: string): string {
  return `${kind}:${tenantId ?? PLATFORM_TENANT}:${subject}`;
}

/** What every job activity receives, so that its events land on the right job row. */
export interface JobRef {
  readonly tenantId: string | null;
  /**
   * The user a job about a private subject (a private document) is private to: its row and
   * events are theirs alone, and are written in their context. Absent for the tenant's jobs.
   */
  readonly privateTo?: string | null;
  readonly workflowId: string;
  readonly runId: string;
}

export const MAINTENANCE_SCHEDULE_ID = 'quarry-maintenance';
export const MAINTENANCE_SUBJECT = 'cleanup';

export interface MaintenanceInput {
  /** The platform admin who asked for this run; absent for scheduled runs. */
  readonly requestedBy?: string | null;
  /**
   * Unfinished jobs that have not moved for this long are checked against Temporal (default 15;
   * the database never answers jobs fresher than its own floor, maintenance_limits()).
   */
  readonly reconcileAfterMinutes?: number;
}

export interface MaintenanceResult {
  readonly sessionsRemoved: number;
  readonly apiKeysRemoved: number;
  readonly jobsReconciled: number;
  /** What the orphan-blob sweep removed. */
  readonly orphanBlobs: { documents: number; blobs: number; bytes: number; staged: number };
}

/** The document a document job works on, and the context its activities run in. */
export interface DocumentRef {
  readonly tenantId: string;
  readonly documentId: string;
  /** Private documents are visible to their owner alone, so their activities act as the owner. */
  readonly ownerUserId: string;
  /** A private document's jobs are its owner's alone too (JobRef.privateTo). */
  readonly visibility: DocumentVisibility;
}

/** Whom the jobs about this document are private to: the owner of a private document, else nobody. */
export function jobPrivacyOf(document: DocumentRef): string | null {
  return document.visibility === 'private' ? document.ownerUserId : null;
}

export interface IngestionInput {
  readonly document: DocumentRef;
  /** The version this run builds: 1 for an upload, latest + 1 for a reprocess. */
  readonly version: number;
  /** What the uploader said about a new document (version 1); null when reprocessing. */
  readonly upload: NewDocument | null;
  readonly requestedBy: string | null;
  /** How soon a silent step counts as lost (its worker died); tests shorten it. */
  readonly heartbeatTimeoutSeconds?: number;
}

export const INGESTION_STEPS = ['register', 'extract', 'chunk', 'embed', 'activate', 'done'] as const;
export type IngestionStep = (typeof INGESTION_STEPS)[number];

export interface IngestionProgress {
  readonly step: IngestionStep;
  readonly chunksEmbedded: number;
  readonly chunksTotal: number;
}

/** What the registration update answers once the document row is written. */
export interface DocumentRegistration {
  readonly documentId: string;
  readonly version: number;
  /** Set when the same content was already a document in the same scope: that document's id. */
  readonly duplicateOf: string | null;
}

export interface IngestionResult extends DocumentRegistration {
  readonly chunks: number;
}

/** What the registration update answers: the registration, and whether an earlier request started the run. */
export interface RegistrationReply extends DocumentRegistration {
  /** True for a repeated request (a retried upload) that attached to the run another one started. */
  readonly attached: boolean;
}

/** Completes once the ingestion's first activity has written the document row. */
export const documentRegisteredUpdate = defineUpdate<RegistrationReply>('documentRegistered');

/** Chunks embedded out of the total, and the step the ingestion is at. */
export const ingestionProgressQuery = defineQuery<IngestionProgress>('ingestionProgress');

export interface DocumentDeletionInput {
  readonly document: DocumentRef;
  readonly requestedBy: string | null;
}

export interface DocumentDeletionResult {
  /** Whether the ingestion was still running and had to be cancelled first. */
  readonly cancelledIngestion: boolean;
  readonly deleted: boolean;
}

/** The embedding model a re-embed job moves the tenant's vectors to. */
export interface EmbeddingTarget {
  readonly model: string;
  readonly dimensions: number;
}

/** How far a re-embed job has come; carried from run to run across continue-as-new. */
export interface ReembedProgress {
  /** Documents whose new version, embedded with the target model, is now active. */
  readonly reembedded: number;
  /** Documents whose re-embedding failed; their old version keeps its place (and is not found). */
  readonly failed: number;
  /** The last document id handled: the listing goes on after it. */
  readonly after: string | null;
}

export interface ReembedInput {
  readonly tenantId: string;
  readonly target: EmbeddingTarget;
  readonly requestedBy: string | null;
  /** Passed on to each document's ingestion (see IngestionInput). */
  readonly heartbeatTimeoutSeconds?: number;
  /** Set by continue-as-new: where the previous run stopped. */
  readonly progress?: ReembedProgress;
}

export type ReembedResult = Omit<ReembedProgress, 'after'>;

/** The subject (and workflow-id suffix) of a tenant's re-embed job: one job per target model. */
export function reembedSubject(target: EmbeddingTarget): string {
  return `${target.model}:${target.dimensions}`;
}
