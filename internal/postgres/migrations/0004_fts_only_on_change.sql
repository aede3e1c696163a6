-- SQLite re-creates its full-text triggers in this migration; PostgreSQL's GIN expression indexes
-- need nothing. The file keeps both engines at the same schema version.
SELECT 1;
