-- A page of leads in the default order (newest first) reads, per lead, its status (the "not
-- deleted" filter), its version and its sort value. With them in the index a page at any depth can
-- be an index-only scan, without a lookup into the table per lead.
DROP INDEX leads_created;
CREATE INDEX leads_created_covering ON leads (id_project, created_at, id) INCLUDE (status, updated_at);
