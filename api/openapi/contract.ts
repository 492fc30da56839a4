// A route's contract: its summary, the zod schemas of its input and its responses. The same
// object validates requests (validate(contract)) and documents the route in /openapi.json,
// so the two cannot drift apart.
import type { z } from 'zod';

export interface ResponseSpec {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** application/json unless said otherwise. */
  readonly contentType?: string;
}

export interface Contract {
  readonly summary: string;
  readonly description?: string;
  readonly body?: z.ZodType;
  /**
   * A multipart/form-data body (file uploads). The route reads it itself, streaming, so
   * validate() leaves it alone; it is here to be documented.
   */
  readonly multipart?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Path parameters. One that does not parse is answered 404, as an id that does not exist. */
  readonly params?: z.ZodObject;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Error statuses of this route beyond those its middleware already documents. */
  readonly errors?: readonly number[];
}

type Parsed<C, K extends string> = C extends { readonly [P in K]: infer S extends z.ZodType } ? z.output<S> : undefined;

/** What validate(contract) leaves in ctx.state.input. */
export interface InputOf<C extends Contract> {
  readonly body: Parsed<C, 'body'>;
  readonly query: Parsed<C, 'query'>;
  readonly params: Parsed<C, 'params'>;
}
