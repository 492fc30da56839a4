// The Temporal client used by the API and the worker. Connection details come from config.
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.ts';

export interface TemporalHandle {
  readonly client: Client;
  close(): Promise<void>;
}

export async function createTemporalClient(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
): Promise<TemporalHandle> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  return { client, close: () => connection.close() };
}
