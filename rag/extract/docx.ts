// docx through mammoth (the library LangChain's DocxLoader wraps). It is converted to HTML
// rather than raw text so that Word's heading styles become section headings.
import mammoth from 'mammoth';
import { CorruptDocumentError, DocumentError } from '../errors.ts';
import { openPackage } from './archive.ts';
import type { ExtractedDocument } from './document.ts';
import { documentFromHtml } from './html.ts';
import type { ExtractionLimits } from './limits.ts';

// Images are left unread: mammoth would inline each as a base64 data URL that the text
// conversion then drops.
const skipImages = mammoth.images.imgElement(() => Promise.resolve({ src: '' }));

export async function extractDocx(
  bytes: Uint8Array,
  filename: string,
  limits: ExtractionLimits,
): Promise<ExtractedDocument> {
  let html: string;
  try {
    await openPackage(bytes, filename, 'docx', limits);
    ({ value: html } = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes) },
      { externalFileAccess: false, convertImage: skipImages },
    ));
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, 'docx', reason, { cause: error });
  }
  return documentFromHtml(html, filename, 'docx', limits);
}
