-- Chatbots (/:pid/faq_kb) and their intents (/:pid/faq). Each keeps its fields as JSON (doc) beside
-- the columns that are looked up or must be unique.
CREATE TABLE bots (
	id_project TEXT NOT NULL,
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	slug       TEXT NOT NULL,
	type       TEXT NOT NULL,
	trashed    BOOLEAN NOT NULL DEFAULT FALSE,
	secret     TEXT NOT NULL,
	doc        JSONB NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE UNIQUE INDEX bots_by_slug ON bots (id_project, slug);

CREATE TABLE intents (
	id_project          TEXT NOT NULL,
	id                  TEXT NOT NULL,
	id_bot              TEXT NOT NULL,
	intent_display_name TEXT NOT NULL,
	question            TEXT NOT NULL DEFAULT '',
	answer              TEXT NOT NULL DEFAULT '',
	doc                 JSONB NOT NULL,
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE UNIQUE INDEX intents_by_name ON intents (id_project, id_bot, intent_display_name);

-- What the bots of a conversation set in it (GET /:pid/requests/:rid/chatbot/parameters).
CREATE TABLE request_parameters (
	id_project TEXT NOT NULL,
	request_id TEXT NOT NULL,
	data       JSONB NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (id_project, request_id)
);
