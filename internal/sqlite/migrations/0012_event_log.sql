-- The event log numbers each project's events (seq, from 1, without gaps) in the order they
-- committed, so that a reader resumes after the last number it saw. SQLite has one writer, so the
-- writing transaction numbers its events itself, after the project's highest number (pruning keeps
-- each project's newest event, so numbering goes on). Existing events are numbered in the order of
-- their ids.
ALTER TABLE events ADD COLUMN seq BIGINT;
UPDATE events SET seq = n.rn
FROM (SELECT id_project, id, ROW_NUMBER() OVER (PARTITION BY id_project ORDER BY id) AS rn FROM events) AS n
WHERE n.id_project = events.id_project AND n.id = events.id;
CREATE UNIQUE INDEX events_by_seq ON events (id_project, seq);
CREATE INDEX events_by_age ON events (created_at);
