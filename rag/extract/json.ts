// JSON flattened to "path: value" lines (`items[0].name: Ada`). A top-level array puts a blank
// line between its elements, so the splitter prefers to cut between records.
import { CorruptDocumentError } from '../errors.ts';
import { decodeUtf8 } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';

function* flatten(value: unknown, path: string): Generator<string> {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* flatten(item, `${path}[${index}]`);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* flatten(item, path === '' ? key : `${path}.${key}`);
  } else {
    const rendered = typeof value === 'string' ? value : JSON.stringify(value);
    yield path === '' ? rendered : `${path}: ${rendered}`;
  }
}

export function extractJson(bytes: Uint8Array, filename: string): ExtractedDocument {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(bytes, filename, 'json'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new CorruptDocumentError(filename, 'json', error.message, { cause: error });
  }
  const text = Array.isArray(value)
    ? value.map((item, index) => [...flatten(item, `[${index}]`)].join('\n')).join('\n\n')
    : [...flatten(value, '')].join('\n');
  return assembleDocument(filename, 'json', [{ text, location: {} }]);
}
