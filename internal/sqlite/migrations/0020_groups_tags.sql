-- Groups of agents (/:pid/groups; "groups" is a word of SQL) kept as their fields' JSON, and the
-- tag library (/:pid/tags), one name per project.
CREATE TABLE agent_groups (
	id_project TEXT NOT NULL,
	id         TEXT NOT NULL,
	trashed    BOOLEAN NOT NULL DEFAULT FALSE,
	doc        TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);

CREATE TABLE project_tags (
	id_project TEXT NOT NULL,
	id         TEXT NOT NULL,
	tag        TEXT NOT NULL,
	color      TEXT,
	attributes TEXT,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE UNIQUE INDEX project_tags_by_name ON project_tags (id_project, tag);
