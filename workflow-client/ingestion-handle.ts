// A document's ingestion run, reached by its workflow id: whether it is open, and cancelling it.
// What the document-deletion activity needs of the client, so this file imports nothing of
// workflows/ (which import the activities' types): contract/ and the SDK only.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workflowIdFor } from '../contract/jobs.ts';

/** The document an ingestion run builds: its tenant and id. */
export interface IngestionSubject {
  readonly tenantId: string;
  readonly documentId: string;
}

export function ingestionWorkflowId(document: IngestionSubject): string {
  return workflowIdFor('ingestion', document.tenantId, document.documentId);
}

/** Whether an ingestion run of the document is open (for an upload: it may not have written its row yet). */
export async function ingestionPending(client: Client, document: IngestionSubject): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(ingestionWorkflowId(document)).describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * Cancels the document's running ingestion and waits until it has closed (it records
 * `cancelled` and removes the unfinished version on its way out), or for `waitMs` at most.
 * False when none was running.
 */
export async function cancelIngestion(
  client: Client,
  document: IngestionSubject,
  options: { waitMs?: number } = {},
): Promise<boolean> {
  const handle = client.workflow.getHandle(ingestionWorkflowId(document));
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return false;
    await handle.cancel();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
  const closed = () => handle.result();
  const waitMs = options.waitMs;
  // The run ends cancelled, which result() reports as an error: all that matters is that it ended.
  await (waitMs === undefined ? closed() : client.withDeadline(Date.now() + waitMs, closed)).catch(() => undefined);
  return true;
}
