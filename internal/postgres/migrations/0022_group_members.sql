-- Who is in which group, one row each, for the groups that grant something (enabled, not
-- trashed): routing and visibility look members up here. Filled from the groups kept so far.
CREATE TABLE agent_group_members (
	id_project TEXT NOT NULL,
	id_group   TEXT NOT NULL,
	member     TEXT NOT NULL,
	PRIMARY KEY (id_project, id_group, member)
);
CREATE INDEX agent_group_members_by_member ON agent_group_members (id_project, member);
INSERT INTO agent_group_members (id_project, id_group, member)
	SELECT g.id_project, g.id, m.value FROM agent_groups g, jsonb_array_elements_text(g.doc -> 'Members') m(value)
	WHERE NOT g.trashed AND (g.doc ->> 'Enabled')::boolean
	ON CONFLICT DO NOTHING;
