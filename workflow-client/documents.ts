// Starting document jobs (ingestion, deletion, a tenant's re-embedding) and asking an ingestion
// where it is: what the API sends to Temporal. Each start names its workflow function, so "go to
// definition" leads from here into workflows/. Workflow ids are derived from the subject (tenant
// and document, or tenant and target model), so one document never has two ingestions at once
// and a repeated request attaches to the running job.
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { workflowIdFor, type JobKind } from '../contract/jobs.ts';
import { JobKindKey, JobStatusKey, JobSubjectKey, TenantIdKey } from '../contract/search-attributes.ts';
import { documentDeletionWorkflow, importWorkflow, ingestionWorkflow, reembedWorkflow } from '../workflows/index.ts';
import {
  cancelImportDocumentsSignal,
  documentRegisteredUpdate,
  importRegisteredUpdate,
  ingestionProgressQuery,
  reembedSubject,
  type DocumentDeletionInput,
  type DocumentDeletionResult,
  type DocumentRef,
  type DocumentRegistration,
  type ImportInput,
  type IngestionInput,
  type IngestionProgress,
  type ReembedInput,
  type RegistrationReply,
} from '../workflows/shared.ts';
import { ingestionWorkflowId } from './ingestion-handle.ts';

function queuedAttributes(kind: JobKind, tenantId: string, subject: string): SearchAttributePair[] {
  return [
    { key: TenantIdKey, value: tenantId },
    { key: JobKindKey, value: kind },
    { key: JobSubjectKey, value: subject },
    { key: JobStatusKey, value: 'queued' },
  ];
}

/**
 * Starts the ingestion of a version with update-with-start and answers once its first activity
 * has written the document row. A new document (or a new upload of a failed one's content)
 * attaches to its own run if the request is repeated; a reprocess refuses to start beside a
 * running ingestion (WorkflowExecutionAlreadyStartedError). Gives up after `timeoutMs` (no ingestion worker
 * answering); the run then still goes ahead once a worker polls the queue.
 */
export async function startIngestion(
  client: Client,
  input: IngestionInput,
  options: { taskQueue: string; timeoutMs: number },
): Promise<RegistrationReply> {
  const startWorkflowOperation = new WithStartWorkflowOperation(ingestionWorkflow, {
    workflowId: ingestionWorkflowId(input.document),
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: input.upload || input.reupload ? 'USE_EXISTING' : 'FAIL',
    typedSearchAttributes: queuedAttributes('ingestion', input.document.tenantId, input.document.documentId),
  });
  return client.withDeadline(Date.now() + options.timeoutMs, () =>
    client.workflow.executeUpdateWithStart(documentRegisteredUpdate, { startWorkflowOperation }),
  );
}

/** The workflow id of a batch import: derived from the batch id. */
export function importWorkflowId(tenantId: string, batchId: string): string {
  return workflowIdFor('import', tenantId, batchId);
}

/**
 * Starts a batch import with update-with-start and answers once its first activity has written
 * every document row: each upload's registration, in order. A repeated request (the same batch
 * id) attaches to the running import. Gives up after `timeoutMs`, as startIngestion does.
 */
export async function startImport(
  client: Client,
  input: ImportInput,
  options: { taskQueue: string; timeoutMs: number },
): Promise<readonly DocumentRegistration[]> {
  const startWorkflowOperation = new WithStartWorkflowOperation(importWorkflow, {
    workflowId: importWorkflowId(input.tenantId, input.batchId),
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: queuedAttributes('import', input.tenantId, input.batchId),
  });
  return client.withDeadline(Date.now() + options.timeoutMs, () =>
    client.workflow.executeUpdateWithStart(importRegisteredUpdate, { startWorkflowOperation }),
  );
}

/** Asks the import carrying these documents to cancel them if they are not built yet. */
export async function cancelImportDocuments(
  client: Client,
  carrierWorkflowId: string,
  documentIds: readonly string[],
): Promise<void> {
  await client.workflow.getHandle(carrierWorkflowId).signal(cancelImportDocumentsSignal, documentIds);
}

/** Where the document's running ingestion is, or null when none answers within `timeoutMs`. */
export async function ingestionProgress(
  client: Client,
  document: DocumentRef,
  timeoutMs: number,
): Promise<IngestionProgress | null> {
  const handle = client.workflow.getHandle(ingestionWorkflowId(document));
  return client.withDeadline(Date.now() + timeoutMs, () => handle.query(ingestionProgressQuery)).catch(() => null);
}

/** Runs the deletion of a document (cancelling its ingestion first) and waits for it to finish. */
export function deleteDocumentJob(
  client: Client,
  input: DocumentDeletionInput,
  options: { taskQueue: string },
): Promise<DocumentDeletionResult> {
  return client.workflow.execute(documentDeletionWorkflow, {
    workflowId: workflowIdFor('document-deletion', input.document.tenantId, input.document.documentId),
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: queuedAttributes('document-deletion', input.document.tenantId, input.document.documentId),
  });
}

/**
 * Starts the tenant's re-embedding with the given target model; a repeated request while it runs
 * attaches to the running job. Answers the ids of the run.
 */
export async function startReembed(
  client: Client,
  input: ReembedInput,
  options: { taskQueue: string },
): Promise<{ workflowId: string; runId: string }> {
  const subject = reembedSubject(input.target);
  const handle = await client.workflow.start(reembedWorkflow, {
    workflowId: workflowIdFor('reembed', input.tenantId, subject),
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: queuedAttributes('reembed', input.tenantId, subject),
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}
