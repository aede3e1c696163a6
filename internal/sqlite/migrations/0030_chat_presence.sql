-- Which server processes hold chat (MQTT) connections of each registered user, seen at when: a
-- user is online while one process holds some. A process refreshes its records while it runs;
-- the records of one that stopped without saying so go stale, and another clears them.
CREATE TABLE chat_presence (
	user_id    TEXT NOT NULL,
	process_id TEXT NOT NULL,
	seen_at    BIGINT NOT NULL,
	PRIMARY KEY (user_id, process_id)
);
CREATE INDEX chat_presence_by_process ON chat_presence (process_id);
CREATE INDEX chat_presence_by_age ON chat_presence (seen_at);
