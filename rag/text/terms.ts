// Word-level text normalisation shared by the hash embedder and the extractive answerer, so
// both agree on what counts as "the same word".

const STOPWORDS = new Set(
  (
    'a about above after again all also am an and any are as at be because been before being below between both but ' +
    'by can could did do does doing down during each few for from further had has have having he her here hers him his ' +
    'how i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out ' +
    'over own same she should so some such than that the their theirs them then there these they this those through ' +
    'to too under until up very was we were what when where which while who whom why will with would you your yours'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;
const COMBINING_MARKS = /\p{M}+/gu;

/** Lower case, compatibility-normalised, accents removed: "Café" and "cafe" become one word. */
export function normalise(text: string): string {
  return text.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
}

/** The normalised words of a text, in order, stopwords included. */
export function words(text: string): string[] {
  return normalise(text).match(WORD) ?? [];
}

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

const DOUBLED_ENDING = /([^aeiouylsz])\1$/;

/**
 * A light English suffix strip, enough for "polishing", "polished" and "polishes" to meet as
 * "polish". Short words are left alone; the result is a matching key, not always a real word.
 */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  let base = word;
  if (word.endsWith('ies') && word.length > 4) base = `${word.slice(0, -3)}y`;
  else if (word.endsWith('sses')) base = word.slice(0, -2);
  else if (word.endsWith('ing') && word.length >= 6) base = word.slice(0, -3).replace(DOUBLED_ENDING, '$1');
  else if (word.endsWith('ed') && word.length >= 5) base = word.slice(0, -2).replace(DOUBLED_ENDING, '$1');
  else if (/(s|x|z|ch|sh)es$/.test(word)) base = word.slice(0, -2);
  else if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) base = word.slice(0, -1);
  return base.length > 3 && base.endsWith('e') ? base.slice(0, -1) : base;
}

/** The distinct stemmed content words of a text: what a question asks about. */
export function contentTerms(text: string): Set<string> {
  return new Set(
    words(text)
      .filter((word) => !isStopword(word))
      .map(stem),
  );
}
