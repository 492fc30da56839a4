// The Temporal client used by the API and the worker. Connection details come from config.
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { temporalAddressOf, type Config } from '../config.ts';

export interface TemporalHandle {
  readonly client: Client;
  close(): Promise<void>;
}

/** What the API's client allows a call Temporal answers UNAVAILABLE: about a second of retries. */
export const API_CALL_ATTEMPTS = 4;

export interface TemporalClientOptions {
  /**
   * Attempts of a call that Temporal answers UNAVAILABLE (the SDK's default is 10, about 20 s
   * of backoff). The API keeps this small, so that a client hears 503 in a second or two rather
   * than waiting out the outage; workers keep the default and ride it out.
   */
  readonly callAttempts?: number;
}

export async function createTemporalClient(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_PORT' | 'TEMPORAL_NAMESPACE'>,
  options: TemporalClientOptions = {},
): Promise<TemporalHandle> {
  const connection = await Connection.connect({
    address: temporalAddressOf(config),
    ...(options.callAttempts
      ? { interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: options.callAttempts }))] }
      : {}),
  });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  return { client, close: () => connection.close() };
}
