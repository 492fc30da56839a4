// docx through mammoth (the library LangChain's DocxLoader wraps). It is converted to HTML
// rather than raw text so that Word's heading styles become section headings.
import JSZip from 'jszip';
import mammoth from 'mammoth';
import { CorruptDocumentError, DocumentError, DocumentTooLargeError } from '../errors.ts';
import type { ExtractedDocument } from './document.ts';
import { documentFromHtml } from './html.ts';
import { formatBytes, type ExtractionLimits } from './limits.ts';

/**
 * Inflates every entry of the package once with jszip (the zip reader mammoth uses), counting
 * the bytes as they stream out and stopping at the limit, before mammoth unpacks anything. The
 * sizes a zip's central directory declares can lie, and jszip compares them only after it has
 * inflated an entry whole, so the bytes themselves are counted.
 */
async function checkExpansion(bytes: Uint8Array, filename: string, limits: ExtractionLimits): Promise<void> {
  const zip = await JSZip.loadAsync(bytes);
  let inflated = 0;
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    // jszip's Node stream is an old-style one, without async iteration: read it by events.
    await new Promise<void>((resolve, reject) => {
      const stream = entry.nodeStream('nodebuffer');
      const onData = (chunk: Buffer) => {
        inflated += chunk.length;
        if (inflated <= limits.maxArchiveBytes) return;
        stream.removeListener('data', onData);
        stream.pause();
        reject(
          new DocumentTooLargeError(
            filename,
            'docx',
            'maxArchiveBytes',
            `it inflates to more than ${formatBytes(limits.maxArchiveBytes)}`,
          ),
        );
      };
      stream.on('data', onData).once('error', reject).once('end', resolve);
    });
  }
}

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
    await checkExpansion(bytes, filename, limits);
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
