-- A conversation's words move out of the conversations' table into one of their own. PostgreSQL
-- writes a new version of a row on every update that is not HOT, and a conversation's update
-- never is (updated_at is indexed): every reply re-entered all the conversation's words into the
-- GIN index, the dearest part of a reply's statement. The words change far less often than the
-- conversation (its creation, a change of its text); triggers copy them only then.
CREATE TABLE request_search (
	id_project  TEXT NOT NULL,
	id          TEXT NOT NULL,
	search_text TEXT NOT NULL,
	PRIMARY KEY (id_project, id)
);

CREATE FUNCTION tiledesk_request_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		DELETE FROM request_search WHERE id_project = OLD.id_project AND id = OLD.id;
	ELSE
		INSERT INTO request_search AS s (id_project, id, search_text) VALUES (NEW.id_project, NEW.id, NEW.search_text)
			ON CONFLICT (id_project, id) DO UPDATE SET search_text = excluded.search_text;
	END IF;
	RETURN NULL;
END $$;

-- The triggers come first: creating one holds off other sessions' writes of conversations until
-- this migration commits, so that the copy below misses no conversation a server still running
-- the previous version writes meanwhile (during a rolling upgrade).
CREATE TRIGGER requests_search_insert AFTER INSERT ON requests
	FOR EACH ROW EXECUTE FUNCTION tiledesk_request_search();
CREATE TRIGGER requests_search_update AFTER UPDATE OF search_text ON requests
	FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION tiledesk_request_search();
CREATE TRIGGER requests_search_delete AFTER DELETE ON requests
	FOR EACH ROW EXECUTE FUNCTION tiledesk_request_search();

INSERT INTO request_search (id_project, id, search_text) SELECT id_project, id, search_text FROM requests
	ON CONFLICT (id_project, id) DO NOTHING;
CREATE INDEX request_search_words ON request_search
	USING GIN (to_tsvector('simple', id_project || replace(left(search_text, 65536), ' ', ' ' || id_project)))
	WITH (fastupdate = off);
DROP INDEX requests_search;
