// The Slonik pool. Every query is typed with a zod row schema (sql.type), and the
// result-parser interceptor below validates every row against it.
import { createPool, createTypeParserPreset, SchemaValidationError, type DatabasePool, type Interceptor } from 'slonik';
import { createPgDriverFactory } from '@slonik/pg-driver';

/** Validates each row against the schema given to sql.type(), and returns the parsed row. */
export function createResultParserInterceptor(): Interceptor {
  return {
    name: 'quarry/result-parser',
    transformRowAsync: async (context, query, row) => {
      const parser = context.resultParser;
      if (!parser) return row;
      const result = await parser['~standard'].validate(row);
      if (result.issues) throw new SchemaValidationError(query, row, result.issues);
      return result.value as typeof row;
    },
  };
}

/** timestamptz and timestamp come back as Date, int8 and count(*) as number when safe. */
const typeParsers = [
  ...createTypeParserPreset().filter((parser) => !['int8', 'timestamp', 'timestamptz'].includes(parser.name)),
  { name: 'int8', parse: (value: string) => Number(value) },
  { name: 'timestamptz', parse: (value: string) => new Date(value) },
  { name: 'timestamp', parse: (value: string) => new Date(`${value}Z`) },
];

export interface PoolOptions {
  readonly maxPoolSize?: number;
  readonly statementTimeoutMs?: number;
}

export function createDatabasePool(url: string, options: PoolOptions = {}): Promise<DatabasePool> {
  return createPool(url, {
    driverFactory: createPgDriverFactory(),
    interceptors: [createResultParserInterceptor()],
    typeParsers,
    maximumPoolSize: options.maxPoolSize ?? 10,
    statementTimeout: options.statementTimeoutMs ?? 30_000,
    idleTimeout: 10_000,
    connectionTimeout: 10_000,
    captureStackTrace: false,
  });
}
