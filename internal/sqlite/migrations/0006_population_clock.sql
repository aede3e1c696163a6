-- Clocks of what a populated list of conversations shows besides conversations and leads (which
-- have requests_clock and leads_clock): members_clock moves on every change of a project's
-- memberships and departments, the users_clock setting on every change of any user. Triggers move
-- them, so that no write path, in this process or another, can change a list without moving one;
-- a list rendered at the same four clocks is the same list (see Store.PopulationClock).
ALTER TABLE project_counters ADD COLUMN members_clock BIGINT NOT NULL DEFAULT 0;
INSERT INTO meta (key, value) VALUES ('users_clock', '0') ON CONFLICT (key) DO NOTHING;

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

CREATE TRIGGER users_clock_insert AFTER INSERT ON users BEGIN
	UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'users_clock';
END;
CREATE TRIGGER users_clock_update AFTER UPDATE ON users BEGIN
	UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'users_clock';
END;
CREATE TRIGGER users_clock_delete AFTER DELETE ON users BEGIN
	UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'users_clock';
END;
