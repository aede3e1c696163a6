-- Conversations (requests), their participants and tags, and their messages.

-- The per-project counter row also numbers tickets, stamps request changes in commit order, counts
-- the conversations of the default list and remembers the last agent routing chose.
ALTER TABLE project_counters ADD COLUMN ticket_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE project_counters ADD COLUMN requests_clock BIGINT NOT NULL DEFAULT 0;
ALTER TABLE project_counters ADD COLUMN requests_open BIGINT NOT NULL DEFAULT 0;
ALTER TABLE project_counters ADD COLUMN last_assigned TEXT NOT NULL DEFAULT '';

CREATE TABLE requests (
	id_project          TEXT NOT NULL,
	id                  TEXT NOT NULL,
	request_id          TEXT NOT NULL,
	ticket_id           BIGINT NOT NULL,
	requester           TEXT NOT NULL DEFAULT '',
	lead                TEXT NOT NULL DEFAULT '',
	subject             TEXT,
	first_text          TEXT NOT NULL,
	status              INTEGER NOT NULL,
	is_open             BOOLEAN NOT NULL,
	preflight           BOOLEAN NOT NULL DEFAULT FALSE,
	draft               BOOLEAN NOT NULL DEFAULT FALSE,
	has_bot             BOOLEAN NOT NULL DEFAULT FALSE,
	participants        JSONB NOT NULL,
	participants_agents JSONB NOT NULL,
	participants_bots   JSONB NOT NULL,
	priority            TEXT NOT NULL,
	followers           JSONB NOT NULL,
	department          TEXT NOT NULL DEFAULT '',
	transcript          TEXT,
	first_response_at   BIGINT,
	assigned_at         BIGINT,
	closed_at           BIGINT,
	waiting_time        BIGINT,
	duration            BIGINT,
	closed_by           TEXT,
	tags                JSONB NOT NULL,
	notes               JSONB NOT NULL,
	rating              INTEGER,
	rating_message      TEXT,
	snapshot            JSONB,
	source_page         TEXT,
	language            TEXT,
	user_agent          TEXT,
	channel             TEXT NOT NULL,
	channel_outbound    TEXT NOT NULL,
	attributes          JSONB,
	location            JSONB,
	smart_assignment    BOOLEAN NOT NULL DEFAULT TRUE,
	working_status      TEXT NOT NULL DEFAULT '',
	contact             JSONB,
	requester_email     TEXT NOT NULL DEFAULT '',
	search_text         TEXT NOT NULL DEFAULT '',
	created_by          TEXT NOT NULL,
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE UNIQUE INDEX requests_request_id ON requests (id_project, request_id);
CREATE INDEX requests_created ON requests (id_project, created_at, id);
CREATE INDEX requests_open ON requests (id_project, is_open, created_at, id);
CREATE INDEX requests_status ON requests (id_project, status, created_at, id);
CREATE INDEX requests_updated ON requests (id_project, updated_at, id);
CREATE INDEX requests_ticket ON requests (id_project, ticket_id);
CREATE INDEX requests_lead ON requests (id_project, lead, created_at);
CREATE INDEX requests_requester ON requests (id_project, requester, created_at);
CREATE INDEX requests_department ON requests (id_project, department, created_at);
CREATE INDEX requests_requester_email ON requests (id_project, requester_email);

CREATE TABLE request_participants (
	id_project  TEXT NOT NULL,
	participant TEXT NOT NULL,
	request     TEXT NOT NULL,
	PRIMARY KEY (id_project, participant, request)
);
CREATE INDEX request_participants_request ON request_participants (id_project, request);

CREATE TABLE request_followers (
	id_project TEXT NOT NULL,
	follower   TEXT NOT NULL,
	request    TEXT NOT NULL,
	PRIMARY KEY (id_project, follower, request)
);
CREATE INDEX request_followers_request ON request_followers (id_project, request);

CREATE TABLE request_tags (
	id_project TEXT NOT NULL,
	tag        TEXT NOT NULL,
	request    TEXT NOT NULL,
	PRIMARY KEY (id_project, tag, request)
);
CREATE INDEX request_tags_request ON request_tags (id_project, request);

CREATE INDEX requests_search ON requests USING GIN (to_tsvector('simple', search_text));

CREATE TABLE messages (
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
CREATE INDEX messages_request ON messages (id_project, recipient, created_at, id);
