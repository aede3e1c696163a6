-- The dashboard's analytics read a month of conversations and messages at once.
--
-- The averages of waiting time and duration read only the creation index: it carries both, so that
-- they are not looked up in each conversation's row.
DROP INDEX requests_created;
CREATE INDEX requests_created ON requests (id_project, created_at, id, waiting_time, duration);

-- Messages counted per span of 4,096 seconds, keyed by the first five hexadecimal digits of their
-- ids (which begin with their creation second): a month's count sums a few hundred rows, and only
-- the two partial spans at its ends are counted in the messages' key. Triggers keep it in step with
-- every write of a message, in the same transaction.
CREATE TABLE message_counts (
	id_project TEXT NOT NULL,
	id_prefix  TEXT NOT NULL,
	stripe     INTEGER NOT NULL DEFAULT 0,
	messages   BIGINT NOT NULL,
	PRIMARY KEY (id_project, id_prefix, stripe)
) WITHOUT ROWID;

CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
	INSERT INTO message_counts (id_project, id_prefix, stripe, messages) VALUES (new.id_project, substr(new.id, 1, 5), 0, 1)
		ON CONFLICT (id_project, id_prefix, stripe) DO UPDATE SET messages = messages + 1;
END;
CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
	UPDATE message_counts SET messages = messages - 1
		WHERE id_project = old.id_project AND id_prefix = substr(old.id, 1, 5) AND stripe = 0;
END;

INSERT INTO message_counts (id_project, id_prefix, stripe, messages)
	SELECT id_project, substr(id, 1, 5), 0, COUNT(*) FROM messages GROUP BY id_project, substr(id, 1, 5);
