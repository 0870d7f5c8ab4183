-- Complaint search that finds a word by its start and by its usual spellings (issue 15, item 6): the
-- fold, the indexed words and the query, here once for every tenant schema (tenant migration 0007 indexes
-- `search_vector` of each complaint; mla_core.complaints.store asks `search_query` of what was typed).
-- tests/integration/test_search_matching.py holds them to the samples.
-- A change to `search_fold` or `search_vector` reaches stored rows only through a tenant migration that
-- recomputes the generated column (as 0007 does), so either change comes with one.
-- Runs with search_path = platform.

-- One spelling of a word for the index and for the query: lower case; Unicode NFC; Devanagari's
-- chandrabindu (ँ) as the anusvara (ं), its nukta (़: ड़ → ड, ज़ → ज) and the zero-width joiners dropped;
-- a half nasal before a consonant (ङ् ञ् ण् न् म्: हैंडपम्प) as the anusvara (हैंडपंप).
CREATE OR REPLACE FUNCTION platform.search_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN regexp_replace(
        translate(normalize(lower(value), NFC), U&'\0901\093C\200C\200D', U&'\0902'),
        '[\u0919\u091E\u0923\u0928\u092E]\u094D(?=[\u0915-\u0939])', U&'\0902', 'g');

-- The words of a complaint as they are (the 'simple' configuration: Tamil and Hindi words whole) and
-- English words by their stem too (the 'english' configuration: potholes → pothol, cities → citi).
CREATE OR REPLACE FUNCTION platform.search_vector(value text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_tsvector('simple', platform.search_fold(value)) || to_tsvector('english', platform.search_fold(value));

-- What was typed as a query: every word must match; a word matches the words it starts (ஓய்வூதிய finds
-- ஓய்வூதியம்), an English word also those its stem starts (potholes finds pothole), a number only
-- itself (a reference). Nothing to search for (only punctuation) is an empty query, which matches nothing.
CREATE OR REPLACE FUNCTION platform.search_query(typed text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(string_agg(
               CASE WHEN word ~ '^[0-9]+$' THEN word_quoted
                    WHEN stem IS NULL OR stem = word THEN word_quoted || ':*'
                    WHEN starts_with(word, stem) THEN stem_quoted || ':*'
                    ELSE '(' || word_quoted || ':* | ' || stem_quoted || ':*)' END,
               ' & '), '')::tsquery
      FROM (SELECT word, stem,
                   '''' || replace(replace(word, '\', '\\'), '''', '''''') || '''' AS word_quoted,
                   '''' || replace(replace(stem, '\', '\\'), '''', '''''') || '''' AS stem_quoted
              FROM (SELECT word, (ts_lexize('english_stem', word))[1] AS stem
                      FROM unnest(tsvector_to_array(to_tsvector('simple', platform.search_fold(typed)))) AS word
                   ) AS words
           ) AS terms;
END;
