// The PostgreSQL text-search configuration a document is indexed with: 'english' (Snowball
// stemming and stopwords) when the text reads as English or cannot be told, 'simple' (each word
// as written) when it shows itself to be something else. Queries are parsed with the
// configuration of each chunk they are matched against (db/queries/search/lexical.ts).
import type { TextSearchConfig } from '../../contract/search.ts';
import { isStopword, normalise, words } from './terms.ts';

/** How much of a document is read to tell its language: its start is enough. */
const SAMPLE_CHARACTERS = 20_000;
/** Fewer words than this say too little about stopwords; the document keeps the default. */
const MIN_WORDS = 20;
/** English prose has 35–55% stopwords of the list in terms.ts; French or German prose under 5%. */
const MIN_STOPWORD_SHARE = 0.15;

const LETTER = /\p{L}/gu;
const LATIN_LETTER = /[a-z]/g;
const LATIN_WORD = /^[a-z0-9]+$/;

/**
 * 'simple' when most letters are not Latin ones (CJK, which has no spaces to count words by,
 * Cyrillic, Arabic…) or when enough Latin words are there and too few of them are English
 * stopwords; otherwise 'english', the configuration every chunk had before this.
 */
export function textSearchConfigOf(text: string): TextSearchConfig {
  const sample = normalise(text.slice(0, SAMPLE_CHARACTERS));
  const letters = sample.match(LETTER)?.length ?? 0;
  const latinLetters = sample.match(LATIN_LETTER)?.length ?? 0;
  if (latinLetters < letters / 2) return 'simple';
  const latinWords = words(sample).filter((word) => LATIN_WORD.test(word));
  if (latinWords.length < MIN_WORDS) return 'english';
  const stopwords = latinWords.filter(isStopword).length;
  return stopwords >= latinWords.length * MIN_STOPWORD_SHARE ? 'english' : 'simple';
}
