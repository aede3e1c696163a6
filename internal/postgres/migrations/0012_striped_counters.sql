-- A project's counters and clocks are kept in stripes: several rows per project, each transaction
-- moving the row of its own connection's stripe (1 + pg_backend_pid() % 64), read as sums. One row per
-- project, locked by every writer until its commit, made a tenant's writes run one after another.
-- Each clock is a count of changes: a sum that reads the same twice saw the same committed changes.
-- Stripe 0 keeps what is one number per project: the ticket sequence and the routing rotation.
ALTER TABLE project_counters ADD COLUMN stripe SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE project_counters ADD COLUMN members_clock BIGINT NOT NULL DEFAULT 0;
ALTER TABLE project_counters DROP CONSTRAINT project_counters_pkey;
ALTER TABLE project_counters ADD PRIMARY KEY (id_project, stripe);

-- Every user's changes, for the populated conversations that show agents.
CREATE TABLE users_clock (
	stripe SMALLINT PRIMARY KEY,
	clock  BIGINT NOT NULL DEFAULT 0
);

-- The population clock's members and users parts are moved by triggers, so that no write path can
-- change what a populated conversation shows without moving them. They fire at commit (deferred),
-- so that the stripe is the last row a transaction locks.
CREATE FUNCTION tiledesk_members_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		INSERT INTO project_counters AS c (id_project, stripe, members_clock)
			VALUES (OLD.id_project, 1 + pg_backend_pid() % 64, 1)
			ON CONFLICT (id_project, stripe) DO UPDATE SET members_clock = c.members_clock + 1;
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.id_project <> OLD.id_project) THEN
		INSERT INTO project_counters AS c (id_project, stripe, members_clock)
			VALUES (NEW.id_project, 1 + pg_backend_pid() % 64, 1)
			ON CONFLICT (id_project, stripe) DO UPDATE SET members_clock = c.members_clock + 1;
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION tiledesk_users_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO users_clock AS c (stripe, clock) VALUES (1 + pg_backend_pid() % 64, 1)
		ON CONFLICT (stripe) DO UPDATE SET clock = c.clock + 1;
	RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER project_users_clock AFTER INSERT OR UPDATE OR DELETE ON project_users
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tiledesk_members_clock();
CREATE CONSTRAINT TRIGGER departments_clock AFTER INSERT OR UPDATE OR DELETE ON departments
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tiledesk_members_clock();
CREATE CONSTRAINT TRIGGER users_clock AFTER INSERT OR UPDATE OR DELETE ON users
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tiledesk_users_clock();
