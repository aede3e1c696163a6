-- A visitor's memberships by its uuid, in any project: the chat finds the projects whose
-- conversations a connected visitor takes part in.
CREATE INDEX project_users_by_uuid ON project_users (uuid_user) WHERE uuid_user IS NOT NULL;
