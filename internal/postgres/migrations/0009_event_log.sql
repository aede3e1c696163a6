-- The event log numbers each project's events (seq, from 1, without gaps) in an order readers can
-- follow: a reader that has seen N never later finds an event below N. A sequence taken inside the
-- writing transaction cannot promise that (transactions commit in another order than they drew
-- their numbers), and a per-project counter row locked by every writer until its commit would make
-- one tenant's writes serial. So writers insert their events unnumbered, stamped with their
-- transaction id (tx) and an insertion position (pos), and one sequencer at a time (internal/postgres)
-- numbers the events of the transactions that have ended: those below the oldest transaction still
-- running, in transaction id order. Existing events are numbered in the order of their ids.
ALTER TABLE events ADD COLUMN seq BIGINT;
ALTER TABLE events ADD COLUMN tx xid8;
ALTER TABLE events ADD COLUMN pos BIGINT GENERATED ALWAYS AS IDENTITY;
UPDATE events SET seq = n.rn
FROM (SELECT id_project, id, row_number() OVER (PARTITION BY id_project ORDER BY id) AS rn FROM events) AS n
WHERE n.id_project = events.id_project AND n.id = events.id;
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE UNIQUE INDEX events_by_seq ON events (id_project, seq);
CREATE INDEX events_unnumbered ON events (tx, pos) WHERE seq IS NULL;
CREATE INDEX events_by_age ON events (created_at);
