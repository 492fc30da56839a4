// The bounds of one extraction. Hostile files (zip bombs, 100k nested elements, thousands of
// MIME parts) must end in a permanent DocumentTooLargeError, never in a parser crash that
// Temporal would retry forever. The values come from config.ts (EXTRACT_* settings).
import type { Config } from '../../config.ts';
import { DocumentTooLargeError } from '../errors.ts';
import type { DocumentFormat } from './document.ts';

export interface ExtractionLimits {
  /** UTF-8 bytes of extracted text one document may yield. */
  readonly maxTextBytes: number;
  /** Sections (pages, headed parts) one document may yield. */
  readonly maxSections: number;
  /** Bytes the entries of an archive (docx, xlsx, ods, pptx, odt) may inflate to, all together. */
  readonly maxArchiveBytes: number;
  /** Levels of nesting (HTML elements, JSON arrays and objects) a document may have. */
  readonly maxNestingDepth: number;
  /** MIME parts, attachments included, a mail file may have. */
  readonly maxMailParts: number;
}

export type ExtractionLimitsConfig = Pick<
  Config,
  | 'EXTRACT_MAX_TEXT_BYTES'
  | 'EXTRACT_MAX_SECTIONS'
  | 'EXTRACT_MAX_ARCHIVE_BYTES'
  | 'EXTRACT_MAX_NESTING_DEPTH'
  | 'EXTRACT_MAX_MAIL_PARTS'
>;

export function extractionLimits(config: ExtractionLimitsConfig): ExtractionLimits {
  return {
    maxTextBytes: config.EXTRACT_MAX_TEXT_BYTES,
    maxSections: config.EXTRACT_MAX_SECTIONS,
    maxArchiveBytes: config.EXTRACT_MAX_ARCHIVE_BYTES,
    maxNestingDepth: config.EXTRACT_MAX_NESTING_DEPTH,
    maxMailParts: config.EXTRACT_MAX_MAIL_PARTS,
  };
}

/** `268435456` → `256 MiB`, for messages a person reads. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && Number.isInteger(value / 1024)) {
    value /= 1024;
    unit += 1;
  }
  return `${value} ${units[unit]}`;
}

/** The error for a document nested deeper than `limits.maxNestingDepth`. */
export function tooDeep(filename: string, format: DocumentFormat, limits: ExtractionLimits): DocumentTooLargeError {
  return new DocumentTooLargeError(
    filename,
    format,
    'maxNestingDepth',
    `it nests deeper than ${limits.maxNestingDepth} levels`,
  );
}

/** The error for a document whose text is larger than `limits.maxTextBytes`. */
export function textTooLarge(
  filename: string,
  format: DocumentFormat,
  limits: ExtractionLimits,
): DocumentTooLargeError {
  return new DocumentTooLargeError(
    filename,
    format,
    'maxTextBytes',
    `its text is larger than ${formatBytes(limits.maxTextBytes)}`,
  );
}
