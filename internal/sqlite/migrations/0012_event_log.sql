-- The event log numbers each project's events (seq, from 1, without gaps) in the order they
-- committed, so that a reader resumes after the last number it saw. SQLite has one writer, so the
-- writing transaction numbers its events itself, from the project's row of event_seqs, which keeps
-- counting when old events are pruned. Existing events are numbered in the order of their ids.
ALTER TABLE events ADD COLUMN seq BIGINT;
UPDATE events SET seq = n.rn
FROM (SELECT id_project, id, ROW_NUMBER() OVER (PARTITION BY id_project ORDER BY id) AS rn FROM events) AS n
WHERE n.id_project = events.id_project AND n.id = events.id;
CREATE TABLE event_seqs (
	id_project TEXT PRIMARY KEY,
	last_seq   BIGINT NOT NULL
);
INSERT INTO event_seqs (id_project, last_seq) SELECT id_project, MAX(seq) FROM events GROUP BY id_project;
CREATE UNIQUE INDEX events_by_seq ON events (id_project, seq);
CREATE INDEX events_by_age ON events (created_at);
