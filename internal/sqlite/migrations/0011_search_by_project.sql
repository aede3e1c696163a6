-- Every word of the full-text indexes is indexed behind its project's id ("<id_project>mario"), so
-- that a search looks up only its own project's words: one index serves every tenant, and without
-- the project in its words a search for "a" read the list of every word beginning with "a" in every
-- project. The words are sorted in the index, so a project's words are one run of it, and a
-- prefix looked up behind the project's id is a range of that run. The prefix lists hold 1 to 4
-- letters after an ObjectId's 24 characters.
--
-- The indexed text is no longer the table's column (it is rewritten by the triggers), so the
-- indexes keep no content of their own (content = ''): searches read only their rowids, and the
-- triggers give 'delete' the text they indexed. They are filled from the tables once.
DROP TRIGGER leads_fts_insert;
DROP TRIGGER leads_fts_delete;
DROP TRIGGER leads_fts_update;
DROP TABLE leads_fts;
CREATE VIRTUAL TABLE leads_fts USING fts5(
	search_text, content = '', tokenize = 'unicode61 remove_diacritics 2', prefix = '25 26 27 28'
);
CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
	INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.id_project || replace(new.search_text, ' ', ' ' || new.id_project));
END;
CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
	INSERT INTO leads_fts (leads_fts, rowid, search_text)
	VALUES ('delete', old.seq, old.id_project || replace(old.search_text, ' ', ' ' || old.id_project));
END;
CREATE TRIGGER leads_fts_update AFTER UPDATE OF search_text ON leads WHEN old.search_text IS NOT new.search_text BEGIN
	INSERT INTO leads_fts (leads_fts, rowid, search_text)
	VALUES ('delete', old.seq, old.id_project || replace(old.search_text, ' ', ' ' || old.id_project));
	INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.id_project || replace(new.search_text, ' ', ' ' || new.id_project));
END;
INSERT INTO leads_fts (rowid, search_text) SELECT seq, id_project || replace(search_text, ' ', ' ' || id_project) FROM leads;
INSERT INTO leads_fts (leads_fts) VALUES ('optimize');
INSERT INTO leads_fts (leads_fts, rank) VALUES ('usermerge', 2);

-- Conversations gain the 1- and 4-letter prefix lists the leads have (migration 0007): their
-- 1-letter prefixes were read as the merge of every word they begin.
DROP TRIGGER requests_fts_insert;
DROP TRIGGER requests_fts_delete;
DROP TRIGGER requests_fts_update;
DROP TABLE requests_fts;
CREATE VIRTUAL TABLE requests_fts USING fts5(
	search_text, content = '', tokenize = 'unicode61 remove_diacritics 2', prefix = '25 26 27 28'
);
CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN
	INSERT INTO requests_fts (rowid, search_text) VALUES (new.seq, new.id_project || replace(new.search_text, ' ', ' ' || new.id_project));
END;
CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN
	INSERT INTO requests_fts (requests_fts, rowid, search_text)
	VALUES ('delete', old.seq, old.id_project || replace(old.search_text, ' ', ' ' || old.id_project));
END;
CREATE TRIGGER requests_fts_update AFTER UPDATE OF search_text ON requests WHEN old.search_text IS NOT new.search_text BEGIN
	INSERT INTO requests_fts (requests_fts, rowid, search_text)
	VALUES ('delete', old.seq, old.id_project || replace(old.search_text, ' ', ' ' || old.id_project));
	INSERT INTO requests_fts (rowid, search_text) VALUES (new.seq, new.id_project || replace(new.search_text, ' ', ' ' || new.id_project));
END;
INSERT INTO requests_fts (rowid, search_text) SELECT seq, id_project || replace(search_text, ' ', ' ' || id_project) FROM requests;
INSERT INTO requests_fts (requests_fts) VALUES ('optimize');
INSERT INTO requests_fts (requests_fts, rank) VALUES ('usermerge', 2);
