// JSON flattened to "path: value" lines (`items[0].name: Ada`). A top-level array puts a blank
// line between its elements, so the splitter prefers to cut between records.
import { CorruptDocumentError } from '../errors.ts';
import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import { textTooLarge, tooDeep, type ExtractionLimits } from './limits.ts';

interface Pending {
  readonly value: unknown;
  readonly path: string;
  /** Arrays and objects around the value. */
  readonly depth: number;
}

/**
 * The lines of one value, in document order. It walks with a stack of its own rather than by
 * recursion, which overflowed on 5k nested levels, and stops at the nesting and text limits:
 * every line repeats its path, so deep nesting multiplies the text.
 */
class Flattener {
  private characters = 0;

  constructor(
    private readonly filename: string,
    private readonly limits: ExtractionLimits,
  ) {}

  lines(root: Pending): string[] {
    const lines: string[] = [];
    const stack = [root];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const { value, path, depth } = next;
      if (value === null || typeof value !== 'object') {
        lines.push(this.line(path, value));
        continue;
      }
      if (depth >= this.limits.maxNestingDepth) throw tooDeep(this.filename, 'json', this.limits);
      const children: Pending[] = Array.isArray(value)
        ? value.map((item: unknown, index) => ({ value: item, path: `${path}[${index}]`, depth: depth + 1 }))
        : Object.entries(value as Record<string, unknown>).map(([key, item]) => ({
            value: item,
            path: path === '' ? key : `${path}.${key}`,
            depth: depth + 1,
          }));
      for (let index = children.length - 1; index >= 0; index -= 1) stack.push(children[index]!);
    }
    return lines;
  }

  private line(path: string, value: unknown): string {
    const rendered = typeof value === 'string' ? value : JSON.stringify(value);
    const line = path === '' ? rendered : `${path}: ${rendered}`;
    // A UTF-16 code unit is at least one UTF-8 byte, so this never refuses text within the limit.
    this.characters += line.length + 1;
    if (this.characters > this.limits.maxTextBytes) throw textTooLarge(this.filename, 'json', this.limits);
    return line;
  }
}

export function extractJson(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
  charset: string | undefined,
): ExtractedDocument {
  const decoded = decodeText(bytes, filename, 'json', { charset });
  let value: unknown;
  try {
    value = JSON.parse(decoded.text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new CorruptDocumentError(filename, 'json', error.message, { cause: error });
  }
  const flattener = new Flattener(filename, limits);
  const text = Array.isArray(value)
    ? value
        .map((item: unknown, index) => flattener.lines({ value: item, path: `[${index}]`, depth: 1 }).join('\n'))
        .join('\n\n')
    : flattener.lines({ value, path: '', depth: 0 }).join('\n');
  return assembleDocument(filename, 'json', [{ text, location: {} }], encodingMetadata(decoded));
}
