// Cuts a run of lines into sections at each heading line, so every section knows the heading
// it sits under. Markdown, HTML and docx (through HTML) all come through here.
import type { SectionDraft } from './document.ts';

export interface Heading {
  readonly text: string;
  readonly level: number;
}

export interface HeadedLine {
  readonly text: string;
  /** Set when this line is a heading; it then opens a new section. */
  readonly heading?: Heading;
}

export function sectionsByHeading(lines: readonly HeadedLine[]): SectionDraft[] {
  const sections: SectionDraft[] = [];
  let heading: string | undefined;
  let body: string[] = [];
  const flush = () => {
    sections.push({ text: body.join('\n'), location: heading === undefined ? {} : { heading } });
    body = [];
  };
  for (const line of lines) {
    if (line.heading) {
      flush();
      heading = line.heading.text;
    }
    body.push(line.text);
  }
  flush();
  return sections;
}

/** The text of the first top-level heading, which documents without a title element use as one. */
export function firstTitle(lines: readonly HeadedLine[]): string | undefined {
  const headings = lines.flatMap((line) => (line.heading ? [line.heading] : []));
  const top = Math.min(...headings.map((heading) => heading.level));
  return headings.find((heading) => heading.level === top)?.text;
}
