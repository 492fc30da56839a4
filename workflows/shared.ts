// Definitions shared by the workflows, their activities and the workflow client: the input and
// result types of each workflow, and its updates and queries, defined here once at module level.
// Task queues, job kinds and statuses are contract/jobs.ts.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DocumentSource, DocumentVisibility } from '../contract/documents.ts';
import { workflowIdFor, type JobRef } from '../contract/jobs.ts';

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

/** What the uploader said about a new document, and where its bytes are. */
export interface DocumentUpload {
  readonly id: string;
  readonly tenantId: string;
  readonly ownerUserId: string;
  readonly visibility: DocumentVisibility;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly source: DocumentSource;
  readonly filename: string | null;
  readonly mimeType: string | null;
  readonly byteSize: number;
  readonly contentSha256: string;
  readonly blobKey: string;
}

/** How an upload is to be read and shown: what a new upload of a failed document's content replaces. */
export type UploadDescription = Pick<
  DocumentUpload,
  'title' | 'description' | 'tags' | 'source' | 'filename' | 'mimeType'
>;

export interface IngestionInput {
  readonly document: DocumentRef;
  /** The version this run builds: 1 for an upload, latest + 1 for a reprocess or a re-upload. */
  readonly version: number;
  /** What the uploader said about a new document (version 1); null when reprocessing. */
  readonly upload: DocumentUpload | null;
  /**
   * Set when a new upload of a failed or cancelled document's content starts this run (a new
   * attempt on the same document): what it said, which replaces what the failed upload said.
   */
  readonly reupload?: UploadDescription | null;
  readonly requestedBy: string | null;
  /** How soon a silent step counts as lost (its worker died); tests shorten it. */
  readonly heartbeatTimeoutSeconds?: number;
  /**
   * Build the version in one activity (buildDocument) rather than step by step: set by the API
   * for small originals (INGESTION_ONE_STEP_MAX_BYTES). Runs begun before it existed go step by step.
   */
  readonly oneStep?: boolean;
}

export const INGESTION_STEPS = ['register', 'build', 'extract', 'chunk', 'embed', 'activate', 'done'] as const;
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

/**
 * A batch import (POST /v1/documents/batch): new documents of one uploader in one scope, built
 * by one workflow run that they share, each keeping its own status, job and step history.
 */
export interface ImportInput {
  readonly batchId: string;
  readonly tenantId: string;
  /** The uploader, who owns every document of the batch. */
  readonly ownerUserId: string;
  readonly visibility: DocumentVisibility;
  readonly uploads: readonly DocumentUpload[];
  readonly requestedBy: string | null;
  /** How soon a silent step counts as lost (its worker died); tests shorten it. */
  readonly heartbeatTimeoutSeconds?: number;
}

export interface ImportProgress {
  readonly total: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Uploads whose content was already a document in the scope: nothing to build. */
  readonly duplicates: number;
}

export type ImportResult = ImportProgress;

/** Completes once the import's first activity has written every document row of the batch, in upload order. */
export const importRegisteredUpdate = defineUpdate<readonly DocumentRegistration[]>('importRegistered');

export const importProgressQuery = defineQuery<ImportProgress>('importProgress');

/** Cancels documents of the batch that are not yet built (a document being built finishes). */
export const cancelImportDocumentsSignal = defineSignal<[readonly string[]]>('cancelImportDocuments');

/** The job of one document of a batch: under the document's ingestion workflow id, carried by the import's run. */
export function batchDocumentJob(importJob: JobRef, document: DocumentRef): JobRef {
  return {
    tenantId: document.tenantId,
    privateTo: jobPrivacyOf(document),
    workflowId: workflowIdFor('ingestion', document.tenantId, document.documentId),
    runId: importJob.runId,
    carrierWorkflowId: importJob.workflowId,
  };
}

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

/** The mail account a mailbox job works on, and the context its activities run in (its user's). */
export interface MailboxRef {
  readonly tenantId: string;
  readonly userId: string;
  readonly accountId: string;
}

/**
 * Where a mailbox stands, carried across continue-as-new. `full` is a full sync under way: the
 * messages.list page it goes on from, and the history id read when it began, where incremental
 * sync starts once it ends. `incremental` holds the history id the next sync starts from.
 */
export type MailboxPhase =
  | {
      readonly kind: 'full';
      readonly pageToken: string | null;
      readonly startHistoryId: string | null;
      /** When it began (the database's time): emails it does not find were last seen before. */
      readonly startedAt: string | null;
      readonly reason: FullSyncReason;
      /** With reason `history_expired`: the history id Gmail no longer had. */
      readonly expiredHistoryId: string | null;
    }
  | { readonly kind: 'incremental'; readonly historyId: string };

/** Why a full sync runs: the account's first, or Gmail's history no longer reaching back far enough. */
export type FullSyncReason = 'first' | 'history_expired';

export interface MailboxInput {
  readonly mailbox: MailboxRef;
  readonly requestedBy: string | null;
  /** Seconds between incremental syncs (MAIL_SYNC_INTERVAL_SECONDS when the API started it). */
  readonly syncIntervalSeconds: number;
  /** Steps one run schedules before it continues as new (MAIL_STEPS_PER_RUN; 500 when absent). */
  readonly stepsPerRun?: number;
  /** Set by continue-as-new: where the previous run stopped. */
  readonly phase?: MailboxPhase;
  /** Set by continue-as-new: a sync was asked for while the previous run handed over. */
  readonly syncRequested?: boolean;
  /**
   * Set by continue-as-new when the previous run handed over after a finished sync: this run
   * waits for the next one (the timer, or a request) instead of syncing again at once.
   */
  readonly synced?: boolean;
  /**
   * Set by continue-as-new: when users.watch is next due (ms since the epoch, workflow time).
   * Absent: as soon as a sync has ended.
   */
  readonly watchDueAt?: number;
}

export interface MailboxResult {
  readonly disconnected: boolean;
  readonly kept: boolean;
}

export interface DisconnectRequest {
  /** Keep the synced mail and its documents (the account stays, as `disconnected`). */
  readonly keep: boolean;
}

/** Sync now instead of at the next timer. */
export const syncNowSignal = defineSignal('syncNow');
/** The account was connected again (a new grant): a sync waiting for re-auth goes on. */
export const mailboxConnectedSignal = defineSignal('mailboxConnected');
/** The account is being disconnected: stop, remove (or keep) its mail, and end. */
export const disconnectMailboxSignal = defineSignal<[DisconnectRequest]>('disconnectMailbox');

/** What the mailbox workflow is doing now. */
export const mailboxPhaseQuery = defineQuery<MailboxPhase>('mailboxPhase');
