// fast-check arbitraries drawn from the API's own schemas. The routes' zod contracts reach us as
// the JSON Schemas of /openapi.json (the document is generated from them), so every route and
// every field the API declares is covered without a list kept by hand here. (zod-fast-check
// would draw from the zod schemas directly, but it supports only zod 3 and fast-check 3.)
import fc from 'fast-check';

export type JsonSchema = {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
};

export type Components = Readonly<Record<string, JsonSchema>>;

/** Strings, arrays and objects are kept small: the hostile catalogue brings the huge ones. */
const MAX_STRING = 64;
const MAX_ITEMS = 4;

function resolve(schema: JsonSchema, components: Components): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 10; hops += 1) {
    const name = current.$ref.replace('#/components/schemas/', '');
    current = components[name] ?? {};
  }
  return current;
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'email':
      return fc.emailAddress();
    case 'date-time':
      return fc
        .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
        .map((date) => date.toISOString());
    default: {
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? MAX_STRING, MAX_STRING));
      return fc.string({ unit: 'grapheme', minLength, maxLength });
    }
  }
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1e6);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1e6);
  return integer ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true });
}

/** Values that match `schema` (as far as JSON Schema tells: refinements are not known here). */
export function valueFor(schema: JsonSchema, components: Components, depth = 0): fc.Arbitrary<unknown> {
  const resolved = resolve(schema, components);
  if (depth > 6) return fc.constant(null);
  if (resolved.const !== undefined) return fc.constant(resolved.const);
  if (resolved.enum) return fc.constantFrom(...resolved.enum);
  const alternatives = resolved.anyOf ?? resolved.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((option) => valueFor(option, components, depth + 1)));
  if (resolved.allOf?.length) return valueFor(resolved.allOf[0]!, components, depth + 1);
  const type = Array.isArray(resolved.type) ? resolved.type : resolved.type ? [resolved.type] : [];
  if (type.length > 1) {
    return fc.oneof(...type.map((one) => valueFor({ ...resolved, type: one }, components, depth + 1)));
  }
  switch (type[0]) {
    case 'string':
      return stringArbitrary(resolved);
    case 'integer':
      return numberArbitrary(resolved, true);
    case 'number':
      return numberArbitrary(resolved, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueFor(resolved.items ?? {}, components, depth + 1), {
        minLength: resolved.minItems ?? 0,
        maxLength: Math.max(resolved.minItems ?? 0, Math.min(resolved.maxItems ?? MAX_ITEMS, MAX_ITEMS)),
      });
    case 'object':
    case undefined: {
      const properties = resolved.properties ?? {};
      if (!Object.keys(properties).length) {
        return type[0] === 'object'
          ? fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))
          : fc.jsonValue({ maxDepth: 2 });
      }
      const record = Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, valueFor(property, components, depth + 1)]),
      );
      return fc.record(record, { requiredKeys: [...(resolved.required ?? [])] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** The names of an object schema's properties, for mutations that target one. */
export function propertyNames(schema: JsonSchema | undefined, components: Components): string[] {
  if (!schema) return [];
  return Object.keys(resolve(schema, components).properties ?? {});
}
