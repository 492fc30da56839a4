-- Text normalisation for lexical search, a text-search configuration per document language, and
-- a contextual header per chunk (issue 9).
--
-- Until now `tsv` was to_tsvector('english', content). Under a C locale the text-search parser
-- counts every non-ASCII character as a letter, so `“quarterly”`, `Sunday’s`,
-- `approved—unanimously` and `すみません。` were indexed as single tokens with their punctuation,
-- and no query could find those words. The indexed text is now app_search_text(header + content):
--   * Unicode NFKC (ligatures, full-width forms, Arabic presentation forms);
--   * soft hyphens and zero-width joiners dropped, line-end hyphenation joined (`tris-\ntique`
--     becomes `tristique`) when the next line goes on in lower case and the word before the
--     hyphen is not itself a compound (`state-of-the-\nart` stays `state-of-the-art`);
--   * non-ASCII punctuation, symbols and spaces turned into spaces (ASCII punctuation is left to
--     the parser, which knows URLs, e-mail addresses, versions and hyphenated words);
--   * runs of Han, Hiragana and Katakana, which are written without spaces, indexed as their
--     characters and their overlapping pairs (as Lucene's CJK analyser does with unigrams), so
--     that a word of one character and a word of several are both found.
-- Queries go through the same function (db/queries/search/lexical.ts), so both sides agree.
-- Character classes are read with the pg_c_utf8 collation, so the result is the same whatever
-- the cluster's locale: the function is truly immutable, as a generated column needs.
--
-- Each chunk names its configuration (`ts_config`): 'english' (stemming, stopwords) or
-- 'simple' (words as they are), chosen per document at ingestion (rag/text/language.ts). It is
-- text, not regconfig: pg_upgrade refuses tables with regconfig columns.
--
-- `header` holds the document title and the nearest heading. It is indexed (and embedded) with
-- the chunk, but stays apart from `content`, which is what answers and search results quote.
--
-- Re-adding the generated column rewrites the table and computes every existing row's tsv
-- anew, so rows written before this migration are searchable the new way at once (as 'english'
-- chunks without a header, which is how they were indexed before).

-- The text with each run of Han or kana replaced by its terms, set apart by spaces: each
-- character followed by the pair it starts, so that a phrase query for any part of a run finds
-- it. (One set-returning query: a function call per run made it 3.5 times slower.)
CREATE FUNCTION app_split_cjk(t text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN coalesce(
  (SELECT string_agg(
            CASE WHEN r.m[1] IS NULL THEN r.m[2]
                 ELSE ' ' || substr(r.m[1], i, 1) || CASE WHEN i < length(r.m[1]) THEN ' ' || substr(r.m[1], i, 2) ELSE '' END || ' '
            END,
            '' ORDER BY r.n, i)
   FROM regexp_matches(
          t,
          '([\u3005-\u3007\u3041-\u309f\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)|' ||
          '([^\u3005-\u3007\u3041-\u309f\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)',
          'g'
        ) WITH ORDINALITY AS r(m, n)
   CROSS JOIN LATERAL generate_series(1, coalesce(length(r.m[1]), 1)) AS i),
  '');

-- What the text-search parser is given, for a chunk and for a query alike.
CREATE FUNCTION app_search_text(t text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN app_split_cjk(
  regexp_replace(
    regexp_replace(
      regexp_replace(
        regexp_replace(
          normalize(t, NFKC) COLLATE pg_catalog.pg_c_utf8,
          -- soft hyphens (with the line break they stand at), zero-width joiners, BOMs
          '\u00ad[ \t]*(\r?\n[ \t]*)?|[\u200c\u200d\u2060\ufeff]', '', 'g'),
        -- line-end hyphenation of a plain word, continued in lower case: joined
        '(^|[^-[:alnum:]])([[:alpha:]]+)[-\u2010][ \t]*\r?\n[ \t]*([[:lower:]])', '\1\2\3', 'g'),
      -- any other hyphen at a line end: a compound, kept whole
      '([[:alnum:]])[-\u2010][ \t]*\r?\n[ \t]*([[:alnum:]])', '\1-\2', 'g'),
    -- non-ASCII punctuation, symbols and spaces, and the zero-width space: word breaks
    '(?=[[:punct:][:space:]])[^\u0001-\u007f]|\u200b', ' ', 'g')
);

-- The configuration a chunk names, as a constant (text::regconfig would not be immutable).
CREATE FUNCTION app_ts_config(name text) RETURNS regconfig
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE name WHEN 'english' THEN 'pg_catalog.english'::regconfig ELSE 'pg_catalog.simple'::regconfig END;

GRANT EXECUTE ON FUNCTION app_split_cjk(text), app_search_text(text), app_ts_config(text)
  TO quarry_app;

ALTER TABLE chunks
  ADD COLUMN header text,
  ADD COLUMN ts_config text NOT NULL DEFAULT 'english' CHECK (ts_config IN ('english', 'simple'));

DROP INDEX chunks_tsv_idx;
ALTER TABLE chunks DROP COLUMN tsv;
ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
  to_tsvector(app_ts_config(ts_config), app_search_text(coalesce(header || E'\n\n', '') || content))
) STORED;
CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);
