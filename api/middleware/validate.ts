// validate(contract): parses the body, query and path parameters with the contract's zod
// schemas and leaves the parsed values in ctx.state.input. Bad input is a 400
// `validation_failed` that names each field (`body.email`); a path id that does not parse
// is a 404, the same answer as an id that does not exist. Text holding U+0000 (NUL), which
// PostgreSQL cannot store, is refused up front as `invalid_characters` on that field, in every
// route at once, whatever its schema says.
import type { z } from 'zod';
import type { ApiMiddleware } from '../context.ts';
import { NotFoundError, ValidationError, type ValidationIssue } from '../errors.ts';
import type { Contract, InputOf } from '../openapi/contract.ts';
import { withMeta } from '../openapi/meta.ts';

type Location = 'body' | 'query' | 'params';

const NUL = '\u0000';
const NUL_MESSAGE = 'Text may not contain the NUL character (U+0000)';

interface Visit {
  readonly value: unknown;
  readonly key: string;
  readonly parent: Visit | null;
}

function pathOf(visit: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | null = visit; at; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
}

/**
 * Adds an issue for every string (or object key) below `value` that holds a NUL. Iterative, and
 * each node keeps only a link to its parent, so a body nested 100,000 deep costs neither stack
 * nor a path copied at every level.
 */
function findNuls(location: Location, value: unknown, issues: ValidationIssue[]): void {
  const pending: Visit[] = [{ value, key: location, parent: null }];
  for (let next = 0; next < pending.length; next += 1) {
    const visit = pending[next]!;
    const current = visit.value;
    if (typeof current === 'string') {
      if (current.includes(NUL)) issues.push({ path: pathOf(visit), message: NUL_MESSAGE, code: 'invalid_characters' });
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes(NUL)) {
          const at = { value: undefined, key: key.replaceAll(NUL, ''), parent: visit };
          issues.push({ path: pathOf(at), message: NUL_MESSAGE, code: 'invalid_characters' });
        }
        pending.push({ value: child, key, parent: visit });
      }
    }
    pending[next] = undefined as unknown as Visit; // let visited nodes go
  }
}

function parse(location: Location, schema: z.ZodType | undefined, value: unknown, issues: ValidationIssue[]): unknown {
  if (!schema) return undefined;
  const before = issues.length;
  findNuls(location, value, issues);
  if (issues.length > before) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    issues.push({ path: [location, ...issue.path.map(String)].join('.'), message: issue.message, code: issue.code });
  }
  return undefined;
}

/** Parses a value the route read itself (multipart fields), failing exactly as validate() would. */
export function parseOrThrow<S extends z.ZodType>(location: Location, schema: S, value: unknown): z.output<S> {
  const issues: ValidationIssue[] = [];
  const parsed = parse(location, schema, value, issues);
  if (issues.length) throw new ValidationError(issues);
  return parsed as z.output<S>;
}

export function validate<C extends Contract>(contract: C): ApiMiddleware<{ input: InputOf<C> }> {
  const errors = [...(contract.body || contract.query ? [400] : []), ...(contract.params ? [404] : [])];
  return withMeta(
    async function validateInput(ctx, next) {
      const paramIssues: ValidationIssue[] = [];
      const params = parse('params', contract.params, ctx.params, paramIssues);
      if (paramIssues.length) throw new NotFoundError();
      const issues: ValidationIssue[] = [];
      // A multipart body is the route's to stream; the JSON body schema does not apply to it.
      const streamed = contract.multipart !== undefined && typeof ctx.is('multipart/form-data') === 'string';
      const body = streamed ? undefined : parse('body', contract.body, ctx.request.body ?? {}, issues);
      const query = parse('query', contract.query, ctx.query, issues);
      if (issues.length) throw new ValidationError(issues);
      ctx.state.input = { body, query, params } as InputOf<C>;
      await next();
    },
    { contract, errors },
  );
}
