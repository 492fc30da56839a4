// Registers the platform's custom search attributes (contract/search-attributes.ts) on a
// Temporal namespace of a running cluster, creating the namespace first when it is missing.
// The local dev server gets them at start instead (scripts/lib/temporal.ts). Safe to run
// twice: attributes already registered with the same type are left alone.
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
// Not in the package index: the SDK exports this encoder for registering search attributes.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { msToTs } from '@temporalio/common/lib/time.js';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes.ts';

/** The type names of `temporal operator search-attribute create`, as SEARCH_ATTRIBUTES uses them. */
const TYPE_BY_CLI_NAME = {
  Text: SearchAttributeType.TEXT,
  Keyword: SearchAttributeType.KEYWORD,
  Int: SearchAttributeType.INT,
  Double: SearchAttributeType.DOUBLE,
  Bool: SearchAttributeType.BOOL,
  Datetime: SearchAttributeType.DATETIME,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
} as const;

export type SearchAttributeTypeName = keyof typeof TYPE_BY_CLI_NAME;

export type AddSearchAttributesRequest = Parameters<Connection['operatorService']['addSearchAttributes']>[0];
type IndexedValueType = NonNullable<ReturnType<typeof encodeSearchAttributeIndexedValueType>>;

/** Thrown when a search attribute is already registered on the namespace with another type. */
export class SearchAttributeConflictError extends Error {
  constructor(
    readonly namespace: string,
    readonly conflicts: readonly string[],
  ) {
    super(`Search attributes already registered on namespace ${namespace} with another type: ${conflicts.join(', ')}`);
    this.name = 'SearchAttributeConflictError';
  }
}

function indexedValueType(name: string, type: SearchAttributeTypeName): IndexedValueType {
  const encoded = encodeSearchAttributeIndexedValueType(TYPE_BY_CLI_NAME[type]);
  if (encoded === undefined) throw new Error(`Search attribute ${name} has an unknown type ${type}`);
  return encoded;
}

/** The AddSearchAttributes request that registers every attribute in `attributes`. */
export function addSearchAttributesRequest(
  namespace: string,
  attributes: Readonly<Record<string, SearchAttributeTypeName>> = SEARCH_ATTRIBUTES,
): AddSearchAttributesRequest {
  return {
    namespace,
    searchAttributes: Object.fromEntries(
      Object.entries(attributes).map(([name, type]) => [name, indexedValueType(name, type)]),
    ),
  };
}

const NAMESPACE_RETENTION = '7 days';

// gRPC status codes (@grpc/grpc-js `status`), which the Temporal client reports on its errors.
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_UNAVAILABLE = 14;

function grpcStatus(error: unknown): number | undefined {
  return isGrpcServiceError(error) ? error.code : undefined;
}

/** Registers the namespace unless it exists; true when this call created it. */
async function ensureNamespace(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (error) {
    if (grpcStatus(error) !== GRPC_NOT_FOUND) throw error;
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION),
    });
    return true;
  } catch (error) {
    if (grpcStatus(error) === GRPC_ALREADY_EXISTS) return false;
    throw error;
  }
}

/**
 * A namespace that was just registered is unknown to the frontend until its namespace cache
 * refreshes (about ten seconds on a cluster), so NotFound and Unavailable are retried until then.
 */
async function whenNamespaceKnown<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      const status = grpcStatus(error);
      const transient = status === GRPC_NOT_FOUND || status === GRPC_UNAVAILABLE;
      if (!transient || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export interface SearchAttributeRegistration {
  readonly namespaceCreated: boolean;
  readonly added: readonly string[];
  readonly existing: readonly string[];
}

export interface RegisterOptions {
  readonly address: string;
  readonly namespace: string;
  readonly attributes?: Readonly<Record<string, SearchAttributeTypeName>>;
  /** How long to wait for a newly registered namespace to become usable. */
  readonly timeoutMs?: number;
}

/** Creates the namespace when missing, then adds the search attributes it does not have yet. */
export async function registerSearchAttributes(options: RegisterOptions): Promise<SearchAttributeRegistration> {
  const { address, namespace, timeoutMs = 60_000 } = options;
  const wanted = addSearchAttributesRequest(namespace, options.attributes).searchAttributes ?? {};
  const connection = await Connection.connect({ address, connectTimeout: 10_000 });
  try {
    const namespaceCreated = await ensureNamespace(connection, namespace);
    const { customAttributes } = await whenNamespaceKnown(
      () => connection.operatorService.listSearchAttributes({ namespace }),
      timeoutMs,
    );
    const registered = customAttributes ?? {};
    const missing = Object.keys(wanted).filter((name) => registered[name] === undefined);
    const conflicts = Object.keys(wanted).filter(
      (name) => registered[name] !== undefined && registered[name] !== wanted[name],
    );
    if (conflicts.length) throw new SearchAttributeConflictError(namespace, conflicts);

    if (missing.length) {
      const searchAttributes = Object.fromEntries(missing.map((name) => [name, wanted[name] as IndexedValueType]));
      try {
        await whenNamespaceKnown(
          () => connection.operatorService.addSearchAttributes({ namespace, searchAttributes }),
          timeoutMs,
        );
      } catch (error) {
        // Another migrate run registered them first.
        if (grpcStatus(error) !== GRPC_ALREADY_EXISTS) throw error;
      }
    }
    return {
      namespaceCreated,
      added: missing,
      existing: Object.keys(wanted).filter((name) => !missing.includes(name)),
    };
  } finally {
    await connection.close();
  }
}
