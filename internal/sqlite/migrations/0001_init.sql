-- Accounts, projects, memberships, departments and the event outbox.
-- Timestamps are Unix milliseconds; JSON columns hold JSON text.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	email          TEXT NOT NULL UNIQUE,
	password_hash  TEXT NOT NULL,
	firstname      TEXT NOT NULL DEFAULT '',
	lastname       TEXT NOT NULL DEFAULT '',
	email_verified BOOLEAN NOT NULL DEFAULT FALSE,
	status         INTEGER NOT NULL,
	phone          TEXT,
	description    TEXT,
	public_email   TEXT,
	public_website TEXT,
	attributes     TEXT,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL
);

CREATE TABLE projects (
	id                     TEXT PRIMARY KEY,
	name                   TEXT NOT NULL,
	active_operating_hours BOOLEAN NOT NULL DEFAULT FALSE,
	operating_hours        TEXT,
	time_slots             TEXT,
	settings               TEXT,
	widget                 TEXT,
	attributes             TEXT,
	status                 INTEGER NOT NULL,
	profile                TEXT NOT NULL,
	versions               INTEGER NOT NULL,
	channels               TEXT NOT NULL,
	ip_filter_enabled      BOOLEAN NOT NULL DEFAULT FALSE,
	ip_filter              TEXT,
	ip_filter_deny_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	ip_filter_deny         TEXT,
	banned_users           TEXT,
	created_by             TEXT NOT NULL,
	created_at             BIGINT NOT NULL,
	updated_at             BIGINT NOT NULL
);

CREATE TABLE project_users (
	id_project               TEXT NOT NULL,
	id                       TEXT NOT NULL,
	id_user                  TEXT,
	uuid_user                TEXT,
	role                     TEXT NOT NULL,
	role_type                INTEGER NOT NULL,
	user_available           BOOLEAN NOT NULL,
	profile_status           TEXT,
	max_assigned_chat        INTEGER,
	number_assigned_requests INTEGER NOT NULL DEFAULT 0,
	last_login_at            BIGINT,
	permissions              TEXT,
	tags                     TEXT,
	status                   TEXT NOT NULL,
	trashed                  BOOLEAN NOT NULL DEFAULT FALSE,
	attributes               TEXT,
	settings                 TEXT,
	created_by               TEXT NOT NULL,
	created_at               BIGINT NOT NULL,
	updated_at               BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE UNIQUE INDEX project_users_user ON project_users (id_project, id_user) WHERE id_user IS NOT NULL;
CREATE UNIQUE INDEX project_users_uuid ON project_users (id_project, uuid_user) WHERE uuid_user IS NOT NULL;
-- GET /projects looks memberships up by user across projects.
CREATE INDEX project_users_by_user ON project_users (id_user) WHERE id_user IS NOT NULL;

CREATE TABLE pending_invitations (
	id_project TEXT NOT NULL,
	id         TEXT NOT NULL,
	email      TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE UNIQUE INDEX pending_invitations_email ON pending_invitations (id_project, email);
-- Sign-up looks invitations up by email across projects.
CREATE INDEX pending_invitations_by_email ON pending_invitations (email);

CREATE TABLE departments (
	id_project  TEXT NOT NULL,
	id          TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT,
	routing     TEXT NOT NULL,
	id_bot      TEXT,
	id_group    TEXT,
	bot_only    BOOLEAN NOT NULL DEFAULT FALSE,
	is_default  BOOLEAN NOT NULL DEFAULT FALSE,
	status      INTEGER NOT NULL,
	groups_json TEXT,
	tags        TEXT,
	online_msg  TEXT,
	offline_msg TEXT,
	created_by  TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE INDEX departments_default ON departments (id_project, is_default);

CREATE TABLE events (
	id_project TEXT NOT NULL,
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	object_id  TEXT,
	payload    TEXT,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
