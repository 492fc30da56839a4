// PDF through pdf-parse 2.x (the library LangChain's PDFLoader wraps), page by page so every
// section, and so every chunk, knows its page.
import { PasswordException, PDFParse } from 'pdf-parse';
import { CorruptDocumentError, DocumentError, EncryptedDocumentError } from '../errors.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';

export async function extractPdf(bytes: Uint8Array, filename: string): Promise<ExtractedDocument> {
  // pdf.js may take ownership of the buffer it is given, so it gets a copy.
  const parser = new PDFParse({ data: new Uint8Array(bytes), verbosity: 0, stopAtErrors: true });
  try {
    const info = await parser.getInfo();
    const result = await parser.getText();
    const pages = result.pages.map((page) => ({ text: page.text, location: { page: page.num } }));
    const title: unknown = (info.info as Record<string, unknown> | undefined)?.Title;
    const author: unknown = (info.info as Record<string, unknown> | undefined)?.Author;
    return assembleDocument(filename, 'pdf', pages, {
      title: typeof title === 'string' ? title.trim() : undefined,
      author: typeof author === 'string' ? author.trim() : undefined,
      pages: result.total,
    });
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    if (error instanceof PasswordException) throw new EncryptedDocumentError(filename, 'pdf');
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDocumentError(filename, 'pdf', reason, { cause: error });
  } finally {
    await parser.destroy();
  }
}
