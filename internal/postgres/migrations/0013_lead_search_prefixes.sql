-- Lead search looks up whole prefixes instead of expanding them. The index of migration 0008 held
-- each word once, so a prefix ("mar") was a range of words (mario, marco, marino, ...) whose rows
-- GIN gathered into a bitmap, one row at a time, before intersecting it with the next word's: most
-- of a search's time. search_prefixes indexes every word's first one to four characters as words of
-- their own, and the whole word beside them when it is longer: a query word of up to four
-- characters is then one exact key, with its rows already in one sorted list that GIN intersects
-- with the next word's; a longer one is still a range, but of the few words that begin with it.
--
-- Each key begins with the first 8 hex digits of the md5 of the row's project id rather than the
-- id itself (the dialect's TextQuery writes the same): the id's 24 characters in front of five keys a
-- word would let a text of MaxSearchTextBytes overflow a tsvector's 1 MB, which 8 do not. Two
-- projects whose keys collide share their index ranges but never their rows: every search also
-- filters on id_project. Words are cut at 500 characters, the longest a search accepts, keeping
-- every key under GIN's 2,047 bytes.
--
-- The function is IMMUTABLE (it reads only its arguments), as an index expression must be. It is
-- PL/pgSQL because the same function in SQL computed the keys several times slower.
CREATE OR REPLACE FUNCTION search_prefixes(project TEXT, words TEXT) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	key  TEXT := left(md5(project), 8);
	keys TEXT[] := '{}';
	w    TEXT;
	n    INTEGER;
BEGIN
	FOREACH w IN ARRAY string_to_array(left(words, 65536), ' ') LOOP
		n := char_length(w);
		FOR k IN 1..least(n, 4) LOOP
			keys := keys || (key || left(w, k));
		END LOOP;
		IF n > 4 THEN
			keys := keys || (key || left(w, 500));
		END IF;
	END LOOP;
	RETURN array_to_tsvector(keys);
END
$$;

-- The new index is built before the old one is dropped, so that reads go on using the old one
-- meanwhile (building blocks only writes). It takes the old name for later migrations.
--
-- fastupdate is off: with GIN's pending list (the default) a new row's keys waited there, unsorted,
-- until a vacuum or a full list (4 MB) merged them, and every search read the whole list besides
-- the index; after a bulk load or a busy hour that was most of a search's time, and the write that
-- happened to fill the list paid for merging all of it. A row's few keys cost its insert little.
CREATE INDEX leads_search_prefixes ON leads USING GIN (search_prefixes(id_project, search_text)) WITH (fastupdate = off);
DROP INDEX leads_search;
ALTER INDEX leads_search_prefixes RENAME TO leads_search;

-- Conversations keep the index of migration 0008: their text can be a long first message, whose
-- keys would cost every write of the conversation (PostgreSQL recomputes the expression on any
-- update that is not HOT) far more than the words alone. They lose the pending list all the same;
-- turning it off does not empty it, so what is there is merged now.
ALTER INDEX requests_search SET (fastupdate = off);
SELECT gin_clean_pending_list('requests_search'::regclass);
