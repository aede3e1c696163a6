-- Let the background merger (textmerge.go) merge as few as two segments of one level: every write
-- transaction that changes indexed text adds a segment, and a search looks each of its prefixes up
-- in every segment (BenchmarkSearchFragments: 1,000 single-lead writes after a bulk load left 8
-- segments and searches 17-23% slower; merged to 3, 12-17%). The setting is kept in the index's
-- own config table.
INSERT INTO leads_fts (leads_fts, rank) VALUES ('usermerge', 2);
INSERT INTO requests_fts (requests_fts, rank) VALUES ('usermerge', 2);
