-- A reply's update of a conversation becomes HOT: PostgreSQL writes the new version of the row into
-- the same page without new entries in the table's indexes, so long as no indexed column changed
-- and the page has room. A reply changes updated_at, which was indexed for the lists sorted or
-- filtered by it, so every reply added entries to all the conversations' indexes. updated_at
-- keeps its column (the version writers compare), and its index moves to a narrow table of its
-- own, which those lists join (Dialect.RequestsByUpdate); triggers keep it in step with every write
-- of a conversation, in the same transaction.
CREATE TABLE request_activity (
	id_project TEXT NOT NULL,
	id         TEXT NOT NULL,
	changed_at BIGINT NOT NULL, -- the conversation's updated_at
	PRIMARY KEY (id_project, id)
);

CREATE FUNCTION tiledesk_request_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		DELETE FROM request_activity WHERE id_project = OLD.id_project AND id = OLD.id;
	ELSE
		INSERT INTO request_activity AS a (id_project, id, changed_at) VALUES (NEW.id_project, NEW.id, NEW.updated_at)
			ON CONFLICT (id_project, id) DO UPDATE SET changed_at = excluded.changed_at;
	END IF;
	RETURN NULL;
END $$;

-- The triggers come first: creating one holds off other sessions' writes of conversations until
-- this migration commits, so that the copy below misses no conversation a server still running
-- the previous version writes meanwhile (during a rolling upgrade).
CREATE TRIGGER requests_activity_insert AFTER INSERT ON requests
	FOR EACH ROW EXECUTE FUNCTION tiledesk_request_activity();
CREATE TRIGGER requests_activity_update AFTER UPDATE OF updated_at ON requests
	FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at) EXECUTE FUNCTION tiledesk_request_activity();
CREATE TRIGGER requests_activity_delete AFTER DELETE ON requests
	FOR EACH ROW EXECUTE FUNCTION tiledesk_request_activity();

INSERT INTO request_activity (id_project, id, changed_at) SELECT id_project, id, updated_at FROM requests
	ON CONFLICT (id_project, id) DO NOTHING;
CREATE INDEX request_activity_changed ON request_activity (id_project, changed_at, id);
DROP INDEX requests_updated;

-- Room in every page for a new version of one of its rows, so that an update finds it in the same
-- page: a fifth of 8 KB holds a conversation's row of the usual size (with its first text and last
-- message) whichever way the rows packed. It applies to pages filled from now on; full pages make
-- room as their rows' old versions are pruned.
ALTER TABLE requests SET (fillfactor = 80);
