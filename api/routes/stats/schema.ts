// Contract of GET /v1/stats.
import { TenantStats } from '../../../db/queries/stats.ts';
import type { Contract } from '../../openapi/contract.ts';

export const Stats = TenantStats.meta({
  id: 'TenantStats',
  description:
    'Documents by status, the chunks search serves, the bytes of the originals, and the searches and asks ' +
    'counted, as the caller sees them (other members’ private documents are not counted), and the caller’s own ' +
    'synced mail: mail accounts, emails and their attachments (those read into search too). Mail is its user’s ' +
    'alone, so no owner or admin counts another member’s, and an API key counts none.',
});

export const GetStats = {
  summary: 'Figures of the selected tenant',
  responses: { 200: { description: 'The tenant’s figures', schema: Stats } },
} satisfies Contract;
