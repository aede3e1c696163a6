-- Chat groups (the chat21 protocol's groups other than support groups), kept as their fields'
-- JSON. A group's id is unique across projects: the chat clients name a group by its id alone.
CREATE TABLE chat_groups (
	id         TEXT NOT NULL PRIMARY KEY,
	id_project TEXT NOT NULL,
	doc        TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX chat_groups_by_project ON chat_groups (id_project, id);
-- Who is in which chat group, one row each: a user's groups are looked up here.
CREATE TABLE chat_group_members (
	id_group   TEXT NOT NULL,
	member     TEXT NOT NULL,
	id_project TEXT NOT NULL,
	PRIMARY KEY (id_group, member)
);
CREATE INDEX chat_group_members_by_member ON chat_group_members (id_project, member);
