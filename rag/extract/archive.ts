// The ZIP packages Quarry reads (docx, xlsx, pptx, odt, ods) are opened only once their
// entries are known to inflate within limits.maxArchiveBytes, so that a zip bomb fails
// `document_too_large` instead of filling the heap.
import { Parser } from 'htmlparser2';
import JSZip from 'jszip';
import { DocumentTooLargeError } from '../errors.ts';
import type { DocumentFormat } from './document.ts';
import { formatBytes, type ExtractionLimits } from './limits.ts';

/**
 * Inflates every entry of the package once with jszip, counting the bytes as they stream out
 * and stopping at the limit, before any parser unpacks anything. The sizes a zip's central
 * directory declares can lie, and jszip compares them only after it has inflated an entry
 * whole, so the bytes themselves are counted. Answers the opened package.
 */
export async function openPackage(
  bytes: Uint8Array,
  filename: string,
  format: DocumentFormat,
  limits: ExtractionLimits,
): Promise<JSZip> {
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
            format,
            'maxArchiveBytes',
            `it inflates to more than ${formatBytes(limits.maxArchiveBytes)}`,
          ),
        );
      };
      stream.on('data', onData).once('error', reject).once('end', resolve);
    });
  }
  return zip;
}

/** The text of one entry of an opened package, or undefined when it has none by that name. */
export async function entryText(zip: JSZip, name: string): Promise<string | undefined> {
  return zip.file(name)?.async('string');
}

/** Whether an OpenDocument package is password-protected: its manifest then describes how its entries are encrypted. */
export async function isEncryptedOdf(zip: JSZip): Promise<boolean> {
  const manifest = await entryText(zip, 'META-INF/manifest.xml');
  return manifest?.includes('encryption-data') ?? false;
}

/** Properties a package's metadata entry states, read from the elements `wanted` names. */
export async function packageProperties(
  zip: JSZip,
  entry: string,
  wanted: Readonly<Record<string, 'title' | 'author'>>,
): Promise<{ title?: string; author?: string }> {
  const xml = await entryText(zip, entry);
  if (xml === undefined) return {};
  const found: { title?: string; author?: string } = {};
  let current: 'title' | 'author' | undefined;
  const parser = new Parser(
    {
      onopentag(name) {
        current = wanted[name];
      },
      ontext(text) {
        if (current) found[current] = (found[current] ?? '') + text;
      },
      onclosetag() {
        current = undefined;
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
  return found;
}

/** The title and author an OOXML package's core properties (docProps/core.xml) state, when they do. */
export function coreProperties(zip: JSZip): Promise<{ title?: string; author?: string }> {
  return packageProperties(zip, 'docProps/core.xml', { 'dc:title': 'title', 'dc:creator': 'author' });
}
