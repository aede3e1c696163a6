-- Webhook subscriptions, with where their delivery stands: the Seq of the last event delivered
-- (cursor_seq), the failing attempts of the circuit breaker, when to try next, and the lease of
-- the process delivering them (one process at a time per subscription).
CREATE TABLE subscriptions (
	id_project      TEXT NOT NULL,
	id              TEXT NOT NULL,
	event           TEXT NOT NULL,
	target          TEXT NOT NULL,
	secret          TEXT NOT NULL,
	created_by      TEXT,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	cursor_seq      BIGINT NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	failures        INTEGER NOT NULL DEFAULT 0,
	failing_since   BIGINT NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL DEFAULT 0,
	lease_owner     TEXT,
	lease_until     BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (id_project, id)
);
CREATE UNIQUE INDEX subscriptions_hook ON subscriptions (id_project, event, target);
-- One row per attempt; delivery_id is the same for every attempt at one event.
CREATE TABLE subscription_deliveries (
	id_project      TEXT NOT NULL,
	id              TEXT NOT NULL,
	id_subscription TEXT NOT NULL,
	delivery_id     TEXT NOT NULL,
	seq             BIGINT NOT NULL,
	event           TEXT NOT NULL,
	attempt         INTEGER NOT NULL,
	status          TEXT NOT NULL,
	code            INTEGER NOT NULL,
	latency_ms      BIGINT NOT NULL,
	error           TEXT,
	redelivery      BOOLEAN NOT NULL,
	created_at      BIGINT NOT NULL,
	PRIMARY KEY (id_project, id)
);
CREATE INDEX subscription_deliveries_by_subscription ON subscription_deliveries (id_project, id_subscription, id);
CREATE INDEX subscription_deliveries_by_age ON subscription_deliveries (created_at);
CREATE TABLE subscription_redeliveries (
	id_project      TEXT NOT NULL,
	id_subscription TEXT NOT NULL,
	seq             BIGINT NOT NULL,
	requested_at    BIGINT NOT NULL,
	PRIMARY KEY (id_project, id_subscription, seq)
);
