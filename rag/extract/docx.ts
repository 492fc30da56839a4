// docx through mammoth (the library LangChain's DocxLoader wraps). It is converted to HTML
// rather than raw text so that Word's heading styles become section headings.
import mammoth from 'mammoth';
import { CorruptDocumentError } from '../errors.ts';
import type { ExtractedDocument } from './document.ts';
import { documentFromHtml } from './html.ts';

export async function extractDocx(bytes: Uint8Array, filename: string): Promise<ExtractedDocument> {
  let html: string;
  try {
    ({ value: html } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }, { externalFileAccess: false }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, 'docx', reason, { cause: error });
  }
  return documentFromHtml(html, filename, 'docx');
}
