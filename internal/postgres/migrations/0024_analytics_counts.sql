-- The dashboard's analytics read a month of conversations and messages at once.
--
-- The averages of waiting time and duration read only the creation index: it carries both, so that
-- they are not looked up in each conversation's row.
CREATE INDEX requests_created_covering ON requests (id_project, created_at, id) INCLUDE (waiting_time, duration);
DROP INDEX requests_created;
ALTER INDEX requests_created_covering RENAME TO requests_created;

-- Messages counted per span of 4,096 seconds, keyed by the first five hexadecimal digits of their
-- ids (which begin with their creation second): a month's count sums a few hundred rows, and only
-- the two partial spans at its ends are counted in the messages' key. A statement's messages move
-- one row per span, in the writing connection's stripe (as project_counters: concurrent writers do
-- not wait for each other), in the same transaction.
CREATE TABLE message_counts (
	id_project TEXT NOT NULL,
	id_prefix  TEXT NOT NULL,
	stripe     INTEGER NOT NULL DEFAULT 0,
	messages   BIGINT NOT NULL,
	PRIMARY KEY (id_project, id_prefix, stripe)
);

CREATE FUNCTION tiledesk_message_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO message_counts AS c (id_project, id_prefix, stripe, messages)
			SELECT id_project, substr(id, 1, 5), 1 + pg_backend_pid() % 64, COUNT(*) FROM written
			GROUP BY id_project, substr(id, 1, 5) ORDER BY 1, 2
			ON CONFLICT (id_project, id_prefix, stripe) DO UPDATE SET messages = c.messages + excluded.messages;
	ELSE
		INSERT INTO message_counts AS c (id_project, id_prefix, stripe, messages)
			SELECT id_project, substr(id, 1, 5), 1 + pg_backend_pid() % 64, -COUNT(*) FROM removed
			GROUP BY id_project, substr(id, 1, 5) ORDER BY 1, 2
			ON CONFLICT (id_project, id_prefix, stripe) DO UPDATE SET messages = c.messages + excluded.messages;
	END IF;
	RETURN NULL;
END $$;

-- The triggers come first, so that the count below misses no message a server still running the
-- previous version writes meanwhile (see 0015).
CREATE TRIGGER messages_count_insert AFTER INSERT ON messages
	REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION tiledesk_message_counts();
CREATE TRIGGER messages_count_delete AFTER DELETE ON messages
	REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tiledesk_message_counts();

INSERT INTO message_counts (id_project, id_prefix, stripe, messages)
	SELECT id_project, substr(id, 1, 5), 0, COUNT(*) FROM messages GROUP BY id_project, substr(id, 1, 5);
