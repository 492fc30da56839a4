// Markdown is kept as written; ATX headings (`## Title`) outside code fences open sections.
import { decodeText, encodingMetadata } from './decode.ts';
import { assembleDocument, type ExtractedDocument } from './document.ts';
import { firstTitle, sectionsByHeading, type HeadedLine } from './headings.ts';
import type { ExtractionLimits } from './limits.ts';

const ATX_HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(```|~~~)/;

export function markdownLines(markdown: string): HeadedLine[] {
  let fence: string | undefined;
  return markdown.split('\n').map((text) => {
    const fenceMatch = FENCE.exec(text);
    if (fenceMatch?.[1]) {
      if (fence === undefined) fence = fenceMatch[1];
      else if (fence === fenceMatch[1]) fence = undefined;
      return { text };
    }
    const heading = fence === undefined ? ATX_HEADING.exec(text) : null;
    const level = heading?.[1]?.length;
    const headingText = heading?.[2]?.replace(/[*`]/g, '').trim();
    return level && headingText ? { text, heading: { text: headingText, level } } : { text };
  });
}

export function extractMarkdown(
  bytes: Uint8Array,
  filename: string,
  _limits: ExtractionLimits,
  charset: string | undefined,
): ExtractedDocument {
  const decoded = decodeText(bytes, filename, 'md', { charset });
  const lines = markdownLines(decoded.text);
  return assembleDocument(filename, 'md', sectionsByHeading(lines), {
    title: firstTitle(lines),
    ...encodingMetadata(decoded),
  });
}
