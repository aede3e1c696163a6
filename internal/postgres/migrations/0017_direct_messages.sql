-- Messages outside a conversation (POST /:pid/messages): to a user or a group, not a request. They
-- have a table of their own, so that no conversation's list can ever show one, whatever the
-- conversation's request_id.
CREATE TABLE direct_messages (
	id_project         TEXT NOT NULL,
	id                 TEXT NOT NULL,
	recipient          TEXT NOT NULL,
	sender             TEXT NOT NULL,
	sender_fullname    TEXT NOT NULL DEFAULT '',
	recipient_fullname TEXT,
	type               TEXT NOT NULL,
	channel_type       TEXT NOT NULL,
	text               TEXT,
	language           TEXT,
	channel            TEXT NOT NULL,
	status             INTEGER NOT NULL,
	attributes         JSONB,
	metadata           JSONB,
	created_by         TEXT NOT NULL,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE INDEX direct_messages_by_age ON direct_messages (id_project, created_at, id);
