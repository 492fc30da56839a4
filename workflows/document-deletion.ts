// Deletes a document: cancels its ingestion if one is running (and waits for it to clean up),
// then removes the row, its chunks and vectors (by cascade) and every blob of the document.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { documentStep } from './activity-options.ts';
import { runJob } from './job.ts';
import { jobPrivacyOf, type DocumentDeletionInput, type DocumentDeletionResult } from './shared.ts';

const { stopIngestion, deleteDocument } = proxyActivities<Activities>(documentStep);

export async function documentDeletionWorkflow(input: DocumentDeletionInput): Promise<DocumentDeletionResult> {
  const { document } = input;
  return runJob(
    {
      tenantId: document.tenantId,
      privateTo: jobPrivacyOf(document),
      kind: 'document-deletion',
      subject: document.documentId,
      createdBy: input.requestedBy,
    },
    async (job) => {
      const cancelledIngestion = await stopIngestion({ job, document });
      const deleted = await deleteDocument({ job, document });
      return { cancelledIngestion, deleted };
    },
  );
}
