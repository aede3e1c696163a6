-- Canned responses (/:pid/canned): shared with the project or their author's own; deleted ones
-- (status 1000) are kept until deleted for good.
CREATE TABLE canned_responses (
	id_project TEXT NOT NULL,
	id         TEXT NOT NULL,
	title      TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL,
	shared     BOOLEAN NOT NULL,
	attributes JSONB,
	status     INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE INDEX canned_responses_by_author ON canned_responses (id_project, created_by);
