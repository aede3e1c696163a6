-- Every word of the full-text indexes is indexed behind its project's id ("<id_project>mario"), so
-- that a search looks up only its own project's words: one index serves every tenant, and without
-- the project in its words a search for "a" read the list of every word beginning with "a" in every
-- project. GIN keeps its words sorted, so a prefix looked up behind the project's id is a range of
-- that project's words. Postgres.TextMatch writes the same expression.
--
-- Only the first 65,536 characters of a row's text are indexed: a tsvector holds at most 1 MB, and
-- the project's id before each word would make a long text of distinct words overflow it (an error
-- that would refuse the write). tiledesk.SearchText keeps no more than that in any case.
DROP INDEX leads_search;
CREATE INDEX leads_search ON leads USING GIN (to_tsvector('simple', id_project || replace(left(search_text, 65536), ' ', ' ' || id_project)));
DROP INDEX requests_search;
CREATE INDEX requests_search ON requests USING GIN (to_tsvector('simple', id_project || replace(left(search_text, 65536), ' ', ' ' || id_project)));
