-- Leads, their tags, full-text search, per-project counters and idempotency keys.

-- One row per project, updated by every lead write: the row lock orders concurrent writers of a
-- project, so leads_clock (the last lead updated_at) increases strictly in commit order and
-- leads_active counts the leads that are not deleted without a COUNT over the table.
CREATE TABLE project_counters (
	id_project   TEXT PRIMARY KEY,
	leads_clock  BIGINT NOT NULL DEFAULT 0,
	leads_active BIGINT NOT NULL DEFAULT 0
);
INSERT INTO project_counters (id_project) SELECT id FROM projects;

CREATE TABLE leads (
	id_project     TEXT NOT NULL,
	id             TEXT NOT NULL,
	lead_id        TEXT NOT NULL,
	fullname       TEXT NOT NULL DEFAULT '',
	email          TEXT NOT NULL DEFAULT '',
	email_key      TEXT NOT NULL DEFAULT '',
	phone          TEXT,
	company        TEXT,
	note           TEXT,
	street_address TEXT,
	city           TEXT,
	region         TEXT,
	zipcode        TEXT,
	country        TEXT,
	tags           JSONB NOT NULL,
	attributes     JSONB,
	properties     JSONB,
	status         INTEGER NOT NULL,
	search_text    TEXT NOT NULL DEFAULT '',
	created_by     TEXT NOT NULL,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE INDEX leads_created ON leads (id_project, created_at, id);
CREATE INDEX leads_updated ON leads (id_project, updated_at, id);
CREATE INDEX leads_fullname ON leads (id_project, fullname, id);
CREATE INDEX leads_email ON leads (id_project, email_key, id);
CREATE INDEX leads_lead_id ON leads (id_project, lead_id, id);
CREATE INDEX leads_search ON leads USING GIN (to_tsvector('simple', search_text));

CREATE TABLE lead_tags (
	id_project TEXT NOT NULL,
	tag        TEXT NOT NULL,
	lead       TEXT NOT NULL,
	PRIMARY KEY (id_project, tag, lead)
);
CREATE INDEX lead_tags_lead ON lead_tags (id_project, lead);

CREATE TABLE idempotency_keys (
	id_project   TEXT NOT NULL,
	scope        TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	object_id    TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (id_project, scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
