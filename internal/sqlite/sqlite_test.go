package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

func open(t *testing.T, path string) tiledesk.Store { t.Helper(); return openOn(t, path, nil) }

// openOn is open with the store on the clock now.
func openOn(t *testing.T, path string, now func() time.Time) tiledesk.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) tiledesk.Store {
		return openOn(t, filepath.Join(t.TempDir(), "tiledesk.db"), now)
	})
}

func TestSQLiteURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "data.db")
	s := open(t, "sqlite://"+path+"?synchronous=normal")
	if _, loc := s.Engine(); loc != path {
		t.Fatalf("location = %q, want %q", loc, path)
	}
	if _, err := sqlite.Open(context.Background(), "sqlite:x.db?synchronous=sometimes", sqlite.Options{}); err == nil {
		t.Fatal("an unknown synchronous setting was accepted")
	}
}

func TestWALAndPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	open(t, path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newer.db")
	s := open(t, path)
	raw := s.(interface{ WriteDB() *sql.DB }).WriteDB()
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	err = s2.Migrate(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "newer than this server knows") {
		t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twice.db")
	open(t, path)
	s := open(t, path)
	v, err := s.(interface {
		SchemaVersion(context.Context) (int, error)
	}).SchemaVersion(context.Background())
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
}

var benchLeads = flag.Int("bench.leads", 100_000, "leads seeded for BenchmarkStore")

// BenchmarkStore measures the hot lead operations on a file database with the production settings
// (synchronous=FULL): go test ./internal/sqlite -run '^$' -bench . [-bench.leads 100000] [-cpuprofile cpu.out]
func BenchmarkStore(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	storetest.Bench(b, s, *benchLeads)
}

// TestQueryPlans pins the plans of the selective lead lists on a database of any size: an email
// filter looks the email up in its index and a search starts from the full-text index, instead of
// walking the whole project in the list's order (what SQLite picks without statistics).
func TestQueryPlans(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "plans.db"))
	db := s.(interface{ WriteDB() *sql.DB }).WriteDB()
	for q, want := range map[string]string{
		`SELECT id FROM leads WHERE id_project = 'p' AND status <> 1000 AND email_key = 'a@b.c'
			ORDER BY created_at DESC, id DESC LIMIT 41`: "USING INDEX leads_email",
		`SELECT id FROM leads WHERE id_project = 'p' AND status <> 1000 AND seq IN
			(SELECT rowid FROM leads_fts WHERE leads_fts MATCH '"mar"*') ORDER BY created_at DESC, id DESC LIMIT 41`: "USING INTEGER PRIMARY KEY",
		`WITH m AS MATERIALIZED (SELECT id, updated_at, created_at FROM leads WHERE id_project = 'p' AND status <> 1000
			AND seq IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH '"mar"*'))
			SELECT id, updated_at, created_at AS sort_value, (SELECT COUNT(*) FROM m) AS total FROM m
			ORDER BY created_at DESC, id DESC LIMIT 41`: "USING INTEGER PRIMARY KEY",
		`SELECT COUNT(*) FROM leads WHERE id_project = 'p' AND status <> 1000 AND seq IN
			(SELECT rowid FROM leads_fts WHERE leads_fts MATCH '"mar"*')`: "USING INTEGER PRIMARY KEY",
		`SELECT id FROM leads WHERE id_project = 'p' AND status <> 1000 ORDER BY created_at DESC, id DESC LIMIT 41`: "USING COVERING INDEX leads_created_covering",
		`SELECT id, updated_at, created_at AS sort_value, COALESCE((SELECT leads_active FROM project_counters WHERE id_project = 'p'), 0) AS total
			FROM leads WHERE id_project = 'p' AND status <> 1000 AND (created_at, id) < (5, 'x')
			ORDER BY created_at DESC, id DESC LIMIT 41`: "USING COVERING INDEX leads_created_covering (id_project=? AND (created_at,id)<(?,?))",
		`WITH m AS MATERIALIZED (SELECT id, updated_at, created_at FROM leads WHERE id_project = 'p' AND status <> 1000
			AND email_key = 'a@b.c') SELECT id, updated_at, created_at AS sort_value, (SELECT COUNT(*) FROM m) AS total
			FROM m ORDER BY created_at DESC, id DESC LIMIT 41`: "USING INDEX leads_email",
		`SELECT id, updated_at, created_at AS sort_value FROM leads WHERE id_project = 'p' AND status <> 1000
			AND (created_at, id) < (5, 'x') ORDER BY created_at DESC, id DESC LIMIT 41`: "USING COVERING INDEX leads_created_covering",
		// A page read as one joined row (packedVersions) still walks the index from the cursor.
		`SELECT COUNT(*), COALESCE(group_concat(updated_at || ' ' || sort_value || ' ' || id, ','), ''), MAX(total) FROM (
			SELECT id, updated_at, created_at AS sort_value, COALESCE((SELECT leads_active FROM project_counters WHERE id_project = 'p'), 0) AS total
			FROM leads WHERE id_project = 'p' AND status <> 1000 AND (created_at, id) < (5, 'x')
			ORDER BY created_at DESC, id DESC LIMIT 41) AS page`: "USING COVERING INDEX leads_created_covering (id_project=? AND (created_at,id)<(?,?))",
		`SELECT id FROM leads WHERE id_project = 'p' AND status <> 1000 AND (created_at, id) < (5, 'x')
			ORDER BY created_at DESC, id DESC LIMIT 41`: "USING COVERING INDEX leads_created_covering (id_project=? AND (created_at,id)<(?,?))",
		// Custom events are read from their own index, not from every event the project kept.
		`SELECT id, payload FROM events WHERE id_project = 'p' AND name = 'event.emit' AND (CAST('' AS TEXT) = '' OR payload ->> 'name' = '')
			ORDER BY id DESC LIMIT 40 OFFSET 0`: "USING INDEX events_custom (id_project=?)",
		`SELECT COUNT(*) FROM events WHERE id_project = 'p' AND name = 'event.emit' AND (CAST('' AS TEXT) = '' OR payload ->> 'name' = '')`: "USING INDEX events_custom (id_project=?)",
	} {
		rows, err := db.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "\n"), want) {
			t.Errorf("plan of\n%s\nis\n  %s\nwant a step %q", q, strings.Join(plan, "\n  "), want)
		}
	}
}

func TestRebind(t *testing.T) {
	got := sqlite.Dialect{}.Rebind(`SELECT json_set(a, '$.k', json($1)) FROM t WHERE x = $12 AND y = '$'`)
	if want := `SELECT json_set(a, '$.k', json(?1)) FROM t WHERE x = ?12 AND y = '$'`; got != want {
		t.Fatalf("Rebind = %s\nwant %s", got, want)
	}
}

// TestCheckpointer checks that committed WAL frames reach the database file without a commit doing
// it (the writer never checkpoints) and that closing the store leaves an empty WAL.
func TestCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	w := s.WriteDB()
	var auto int
	if err := w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the writer checkpoints every %d pages (%v), want never", auto, err)
	}
	size := func(name string) int64 {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size(path)
	const rows, rowBytes = 1000, 4000 // about 4 MB, a thousand pages
	for i := 0; i < rows; i++ {
		if _, err := w.Exec(`INSERT INTO meta (key, value) VALUES (?, ?)`, fmt.Sprint("bulk-", i), strings.Repeat("x", rowBytes)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for size(path) < before+rows*rowBytes {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes 5 s after the writes (%d before): nothing checkpointed", size(path), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("the WAL holds %d bytes after close, want none", fi.Size())
	}
}

// TestSearchIndexUpgrade upgrades a database whose full-text indexes predate the 4-letter prefixes
// (migration 0007) and the project's id before each word (0011), and checks that the rebuilt
// indexes hold the leads and conversations written before, each found by its own project only.
func TestSearchIndexUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "upgrade.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	p, owner := storetest.NewProject(t, s)
	other, otherOwner := storetest.NewProject(t, s)
	now := tiledesk.Now()
	for _, name := range []string{"Mario Rossi", "Giulia Rossetti", "Luca Russo"} {
		if _, _, err := s.CreateLead(ctx, &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: p.ID, Fullname: name,
			Status: tiledesk.LeadActive, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateLead(ctx, &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: other.ID, Fullname: "Mario Rossi",
		Status: tiledesk.LeadActive, CreatedBy: otherOwner.ID, CreatedAt: now, UpdatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	// Put the indexes back as migrations 0002 and 0003 made them, and the schema at version 6
	// (undoing what the later migrations did, so that they can run again).
	if _, err := s.WriteDB().Exec(`DROP TRIGGER leads_fts_insert; DROP TRIGGER leads_fts_delete; DROP TRIGGER leads_fts_update;
		DROP TABLE leads_fts;
		CREATE VIRTUAL TABLE leads_fts USING fts5(search_text, content = 'leads', content_rowid = 'seq',
			tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
		CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
			INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.search_text);
		END;
		CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
			INSERT INTO leads_fts (leads_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
		END;
		CREATE TRIGGER leads_fts_update AFTER UPDATE OF search_text ON leads BEGIN
			INSERT INTO leads_fts (leads_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
			INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.search_text);
		END;
		INSERT INTO leads_fts (leads_fts) VALUES ('rebuild');
		ALTER TABLE users DROP COLUMN token_generation;
		DROP TRIGGER requests_fts_insert; DROP TRIGGER requests_fts_delete; DROP TRIGGER requests_fts_update;
		DROP TABLE requests_fts;
		CREATE VIRTUAL TABLE requests_fts USING fts5(search_text, content = 'requests', content_rowid = 'seq',
			tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
		CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN
			INSERT INTO requests_fts (rowid, search_text) VALUES (new.seq, new.search_text);
		END;
		CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN
			INSERT INTO requests_fts (requests_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
		END;
		CREATE TRIGGER requests_fts_update AFTER UPDATE OF search_text ON requests BEGIN
			INSERT INTO requests_fts (requests_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
			INSERT INTO requests_fts (rowid, search_text) VALUES (new.seq, new.search_text);
		END;
		` + undoEventLog + `
		DELETE FROM schema_migrations WHERE version >= 7`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path).(*sqlstore.Store)
	for _, index := range []string{"leads_fts", "requests_fts"} {
		var ddl string
		if err := s.WriteDB().QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, index).Scan(&ddl); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ddl, "prefix = '25 26 27 28'") || !strings.Contains(ddl, "content = ''") {
			t.Fatalf("after the upgrade the index is %s", ddl)
		}
	}
	for q, want := range map[string]int{"ross": 2, "giu ross": 1, "rus": 1, "r": 3, "rossetti": 1, "mario rossi": 1} {
		page, err := s.FindLeads(ctx, p.ID, tiledesk.LeadFilter{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != want || len(page.Leads) != want {
			t.Errorf("search %q after the upgrade: %d leads (count %d), want %d", q, len(page.Leads), page.Count, want)
		}
	}
	// Leads written and changed after the upgrade are found, by their new words only.
	l, _, err := s.CreateLead(ctx, &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: p.ID, Fullname: "Anna Bianchi",
		Status: tiledesk.LeadActive, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := "Anna Verdi"
	if _, err := s.UpdateLead(ctx, p.ID, l.ID, tiledesk.LeadUpdate{Fullname: &name}, nil); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"anna verdi": 1, "bianchi": 0} {
		if page, err := s.FindLeads(ctx, p.ID, tiledesk.LeadFilter{Text: q}); err != nil || page.Count != want {
			t.Errorf("search %q after an update: count %v (%v), want %d", q, page.Count, err, want)
		}
	}
	if _, err := s.DeleteLeadPermanently(ctx, p.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	if page, err := s.FindLeads(ctx, p.ID, tiledesk.LeadFilter{Text: "anna", AllStatuses: true}); err != nil || page.Count != 0 {
		t.Errorf("search of a removed lead: count %v (%v), want 0", page.Count, err)
	}
	if _, err := s.WriteDB().Exec(`INSERT INTO leads_fts (leads_fts, rank) VALUES ('integrity-check', 0)`); err != nil {
		t.Errorf("the lead index fails its integrity check: %v", err)
	}
}

// TestHeldByOneProcess: the server holds its database file alone. A second process that opens the
// same file is refused, promptly and saying why, instead of sharing it: the WAL index lives in the
// first process's memory, where the second could not see it.
func TestHeldByOneProcess(t *testing.T) {
	if path := os.Getenv("TILEDESK_TEST_HOLD_DB"); path != "" {
		// The child: open, say so, and hold the file until the parent closes our stdin.
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			fmt.Println("open failed:", err)
			os.Exit(1)
		}
		fmt.Println("holding")
		_, _ = io.Copy(io.Discard, os.Stdin)
		s.Close()
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "held.db")
	open(t, path).Close()

	child := exec.Command(os.Args[0], "-test.run=^TestHeldByOneProcess$")
	child.Env = append(os.Environ(), "TILEDESK_TEST_HOLD_DB="+path)
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = child.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("the holding process said %q (%v)", line, err)
	}

	began := time.Now()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err == nil {
		s.Close()
		t.Fatal("a second process opened a database another process holds")
	}
	if !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("error = %q, want it to say the file is in use by another process", err)
	}
	if waited := time.Since(began); waited > 3*time.Second {
		t.Errorf("refusing took %v: it should not wait out the busy timeout", waited)
	}

	// Once the holder has gone, the file opens.
	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatalf("holding process: %v", err)
	}
	open(t, path)
}

// fragmentedLeads opens a store with the given merge interval and writes leads one transaction at
// a time, each adding a segment to the full-text index; it returns the store, the project and a
// function counting the index's segments.
func fragmentedLeads(t *testing.T, every time.Duration, n int) (*sqlstore.Store, *tiledesk.Project, func() int) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "merge.db"), sqlite.Options{TextMergeEvery: every, Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	p, owner := storetest.NewProject(t, s)
	// A bulk load first, merged into one large segment as after an import: the small segments of
	// the later writes then sit on levels of their own below it.
	if err := s.SeedLeads(ctx, seed.Leads(p.ID, owner.ID, 0, 3000, tiledesk.Now().Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		now := tiledesk.Now()
		if _, _, err := s.CreateLead(ctx, &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: p.ID, Fullname: fmt.Sprint("Visitor ", i),
			Status: tiledesk.LeadActive, CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}, nil); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() int {
		t.Helper()
		var n int
		if err := s.WriteDB().QueryRow(`SELECT count(DISTINCT segid) FROM leads_fts_idx`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return s, p, segments
}

// TestTextIndexMerge: leads written one at a time after a bulk load leave the full-text index in
// several segments; MergeTextIndexes leaves at most two (merging as few as two segments of a level:
// usermerge 2, migration 0008), and every lead is still found.
func TestTextIndexMerge(t *testing.T) {
	ctx := context.Background()
	s, p, segments := fragmentedLeads(t, -1, 300)
	before := segments()
	if before < 4 {
		t.Fatalf("300 single-lead writes left %d segments: the test needs a fragmented index", before)
	}
	merged, err := sqlite.MergeTextIndexes(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if after := segments(); after > 2 || merged == 0 {
		t.Fatalf("%d segments before, %d after %d merge steps; want at most 2", before, after, merged)
	}
	page, err := s.FindLeads(ctx, p.ID, tiledesk.LeadFilter{Text: "visitor", Limit: 100, NoCount: false})
	if err != nil || page.Count != 300 {
		t.Fatalf("after merging, a search counts %v leads, err %v; want 300", page.Count, err)
	}
	if again, err := sqlite.MergeTextIndexes(ctx, s); err != nil || again != 0 {
		t.Fatalf("a second round merged %d times (%v); want nothing left to merge", again, err)
	}
}

// TestTextMergerRunsAfterWrites: the store merges its full-text index by itself after writes, to
// at most one segment per level (merged while the writes went on, the levels differ from those of
// one merge after them); the same writes without it leave six (TestTextIndexMerge).
func TestTextMergerRunsAfterWrites(t *testing.T) {
	_, _, segments := fragmentedLeads(t, 20*time.Millisecond, 300)
	deadline := time.Now().Add(10 * time.Second)
	for segments() > 3 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the writes the index still has %d segments", segments())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkSearchFragments measures the benchmark's searches (FindLeadVersions, 40 a page, with
// their count) on a bulk-loaded project, after 1,000 leads written one transaction each (a segment
// of the full-text index each, as visitors arrive), and after MergeTextIndexes:
// go test ./internal/sqlite -run '^$' -bench SearchFragments [-bench.leads 100000]
func BenchmarkSearchFragments(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{TextMergeEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	p, owner := storetest.NewProject(b, s)
	now := tiledesk.Now()
	for i := 0; i < *benchLeads; i += 10000 {
		if err := s.SeedLeads(ctx, seed.Leads(p.ID, owner.ID, i, min(10000, *benchLeads-i), now.Add(-time.Hour))); err != nil {
			b.Fatal(err)
		}
	}
	segments := func() int {
		var n int
		if err := s.WriteDB().QueryRow(`SELECT count(DISTINCT segid) FROM leads_fts_idx`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	search := func(b *testing.B) {
		runtime.LockOSThread() // the store runs SQLite on the calling goroutine: its thread's CPU is the searches'
		defer runtime.UnlockOSThread()
		began := threadCPU()
		for i := 0; b.Loop(); i++ {
			if _, err := s.FindLeadVersions(ctx, p.ID, tiledesk.LeadFilter{Limit: 40, Text: seed.SearchQuery(i)}); err != nil {
				b.Fatal(err)
			}
		}
		if began >= 0 {
			b.ReportMetric(float64(threadCPU()-began)/1e3/float64(b.N), "cpu-µs/op")
		}
		b.ReportMetric(float64(segments()), "segments")
	}
	b.Run("bulk-loaded", search)
	for i := range 1000 {
		at := tiledesk.Now()
		if _, _, err := s.CreateLead(ctx, &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: p.ID, Fullname: fmt.Sprint("Visitor ", i),
			Email: fmt.Sprintf("visitor-%d@visitors.example", i), Status: tiledesk.LeadActive, CreatedBy: owner.ID,
			CreatedAt: at, UpdatedAt: at}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("after-1000-single-writes", search)
	if _, err := sqlite.MergeTextIndexes(ctx, s); err != nil {
		b.Fatal(err)
	}
	b.Run("merged", search)
}

func TestEmailKeyUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upgrade.db")
	s := open(t, path).(*sqlstore.Store)
	storetest.EmailKeyUpgrade(t, s, func(stmts ...string) {
		// Undo what the later migrations did too, so that they can run again.
		for _, q := range append(stmts, `ALTER TABLE users DROP COLUMN token_generation`, undoEventLog,
			`DELETE FROM schema_migrations WHERE version >= 9`) {
			if _, err := s.WriteDB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}, func() tiledesk.Store { return open(t, path) })
}

// undoEventLog undoes migrations 0012 to 0014 and 0016 to 0030 (0015 runs again as it is), for the tests
// that run older migrations again.
const undoEventLog = `DROP INDEX events_custom; DROP TABLE subscriptions; DROP TABLE subscription_deliveries; DROP TABLE subscription_redeliveries;
	DROP INDEX events_by_seq; DROP INDEX events_by_age;
	ALTER TABLE events DROP COLUMN seq;
	ALTER TABLE projects DROP COLUMN jwt_secret; ALTER TABLE projects DROP COLUMN public_key;
	DROP TABLE direct_messages; DROP TABLE project_labels; DROP TABLE bots; DROP TABLE intents; DROP TABLE request_parameters; DROP TABLE agent_groups; DROP TABLE project_tags; DROP TABLE canned_responses; DROP TABLE agent_group_members;
	DROP TRIGGER messages_count_insert; DROP TRIGGER messages_count_delete; DROP TABLE message_counts;
	DROP INDEX project_users_by_uuid;
	ALTER TABLE project_users DROP COLUMN presence_status; ALTER TABLE project_users DROP COLUMN presence_changed_at;
	DROP TABLE chat_states; DROP TABLE chat_groups; DROP TABLE chat_group_members; DROP TABLE chat_presence;`
