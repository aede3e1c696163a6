-- project_counters gets PostgreSQL's key, (id_project, stripe), so that one SQL serves both engines.
-- SQLite has one writer, so every project keeps a single row, stripe 0. The triggers that name the
-- table are dropped while it is rebuilt, and recreated as 0006 wrote them.
DROP TRIGGER project_users_clock_insert;
DROP TRIGGER project_users_clock_update;
DROP TRIGGER project_users_clock_delete;
DROP TRIGGER departments_clock_insert;
DROP TRIGGER departments_clock_update;
DROP TRIGGER departments_clock_delete;

CREATE TABLE project_counters_striped (
	id_project     TEXT NOT NULL,
	stripe         INTEGER NOT NULL DEFAULT 0,
	leads_clock    BIGINT NOT NULL DEFAULT 0,
	leads_active   BIGINT NOT NULL DEFAULT 0,
	ticket_seq     BIGINT NOT NULL DEFAULT 0,
	requests_clock BIGINT NOT NULL DEFAULT 0,
	requests_open  BIGINT NOT NULL DEFAULT 0,
	last_assigned  TEXT NOT NULL DEFAULT '',
	members_clock  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (id_project, stripe)
);
INSERT INTO project_counters_striped (id_project, leads_clock, leads_active, ticket_seq, requests_clock,
	requests_open, last_assigned, members_clock)
	SELECT id_project, leads_clock, leads_active, ticket_seq, requests_clock, requests_open, last_assigned,
		members_clock FROM project_counters;
DROP TABLE project_counters;
ALTER TABLE project_counters_striped RENAME TO project_counters;

CREATE TRIGGER project_users_clock_insert AFTER INSERT ON project_users BEGIN
	INSERT OR IGNORE INTO project_counters (id_project) VALUES (new.id_project);
	UPDATE project_counters SET members_clock = members_clock + 1 WHERE id_project = new.id_project;
END;
CREATE TRIGGER project_users_clock_update AFTER UPDATE ON project_users BEGIN
	INSERT OR IGNORE INTO project_counters (id_project) VALUES (new.id_project);
	UPDATE project_counters SET members_clock = members_clock + 1 WHERE id_project IN (old.id_project, new.id_project);
END;
CREATE TRIGGER project_users_clock_delete AFTER DELETE ON project_users BEGIN
	UPDATE project_counters SET members_clock = members_clock + 1 WHERE id_project = old.id_project;
END;

CREATE TRIGGER departments_clock_insert AFTER INSERT ON departments BEGIN
	INSERT OR IGNORE INTO project_counters (id_project) VALUES (new.id_project);
	UPDATE project_counters SET members_clock = members_clock + 1 WHERE id_project = new.id_project;
END;
CREATE TRIGGER departments_clock_update AFTER UPDATE ON departments BEGIN
	INSERT OR IGNORE INTO project_counters (id_project) VALUES (new.id_project);
	UPDATE project_counters SET members_clock = members_clock + 1 WHERE id_project IN (old.id_project, new.id_project);
END;
CREATE TRIGGER departments_clock_delete AFTER DELETE ON departments BEGIN
	UPDATE project_counters SET members_clock = members_clock + 1 WHERE id_project = old.id_project;
END;
