// Contracts of the operational endpoints: liveness, readiness, metrics, the OpenAPI document.
import { z } from 'zod';
import type { Contract } from '../../openapi/contract.ts';

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
export type Health = z.infer<typeof Health>;

export const Healthz = {
  summary: 'Liveness: the process is up (checks no dependency)',
  responses: { 200: { description: 'Alive', schema: Health } },
} satisfies Contract;

const CheckResult = z.enum(['ok', 'failed']);
export const Readiness = z
  .object({ status: z.literal('ready'), checks: z.object({ postgres: CheckResult, temporal: CheckResult }) })
  .meta({ id: 'Readiness' });
export type Readiness = z.infer<typeof Readiness>;

export const Readyz = {
  summary: 'Readiness: PostgreSQL and Temporal answer',
  description: 'When one does not, the answer is 503 `not_ready` with details.checks naming which failed.',
  responses: { 200: { description: 'Ready to serve', schema: Readiness } },
  errors: [503],
} satisfies Contract;

export const Metrics = {
  summary: 'Prometheus metrics',
  description:
    'For the scraper: send `Authorization: Bearer <METRICS_TOKEN>`. Without METRICS_TOKEN configured the ' +
    'endpoint is off (404).',
  errors: [401, 404],
  responses: {
    200: { description: 'Metrics in the Prometheus text format', schema: z.string(), contentType: 'text/plain' },
  },
} satisfies Contract;

export const OpenApi = {
  summary: 'This OpenAPI document',
  responses: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } },
} satisfies Contract;
