-- Re-index a lead or a conversation only when its indexed text changes: every message updates its
-- conversation, and re-indexing unchanged text on each one is pure cost.
DROP TRIGGER leads_fts_update;
CREATE TRIGGER leads_fts_update AFTER UPDATE OF search_text ON leads
WHEN old.search_text IS NOT new.search_text BEGIN
	INSERT INTO leads_fts (leads_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
	INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
DROP TRIGGER requests_fts_update;
CREATE TRIGGER requests_fts_update AFTER UPDATE OF search_text ON requests
WHEN old.search_text IS NOT new.search_text BEGIN
	INSERT INTO requests_fts (requests_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
	INSERT INTO requests_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
