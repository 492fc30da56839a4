// Citations are written `[n]`, several as `[1][2]` or `[1, 2]`.
const CITATION = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

/** The numbers a text cites, in order of first appearance, keeping only those in `available`. */
export function parseCitations(text: string, available: Iterable<number>): number[] {
  const allowed = new Set(available);
  const cited = new Set<number>();
  for (const match of text.matchAll(CITATION)) {
    for (const part of match[1]!.split(',')) {
      const n = Number(part.trim());
      if (allowed.has(n)) cited.add(n);
    }
  }
  return [...cited];
}
