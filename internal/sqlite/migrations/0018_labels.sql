-- A project's texts for the chat widget, one entry per language (/:pid/labels); the defaults are
-- the server's own and are not stored.
CREATE TABLE project_labels (
	id_project TEXT NOT NULL PRIMARY KEY,
	id         TEXT NOT NULL,
	data       TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
