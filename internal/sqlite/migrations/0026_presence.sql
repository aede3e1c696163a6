-- An agent's presence: whether its chat app is connected (online, offline), and since when.
ALTER TABLE project_users ADD COLUMN presence_status TEXT;
ALTER TABLE project_users ADD COLUMN presence_changed_at BIGINT;
