package dbmigrate

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// source is a populated SQLite file, closed, and what its store reads back.
type source struct {
	path     string
	pop      *storetest.Population
	contents string
}

func newSource(t *testing.T, leads int) *source {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiledesk.db")
	st, err := dbopen.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pop := storetest.Populate(t, st, leads)
	return &source{path: path, pop: pop, contents: storetest.Contents(t, st, pop)}
}

// openTarget opens the target as the server does.
func openTarget(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	st, err := dbopen.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func migrate(t *testing.T, src *source, url string, opt CopyOptions) (string, error) {
	t.Helper()
	var report bytes.Buffer
	var progress bytes.Buffer
	opt.Progress = &progress
	err := Run(context.Background(), Options{From: src.path, To: url, Copy: opt, Report: &report})
	t.Logf("progress:\n%s", progress.String())
	return report.String(), err
}

// firstDifference shows where two texts part.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + al[i] + "\n  became " + bl[i]
		}
	}
	return "one text is longer"
}

// TestMigrateReadsBackTheSame: everything written through the SQLite store reads back the same
// through the PostgreSQL store, and the server goes on from where SQLite stood: events are
// numbered after the copied ones, idempotency keys still replay, tickets continue.
func TestMigrateReadsBackTheSame(t *testing.T) {
	url := pgtest.FreshSchema(t)
	src := newSource(t, 9)
	report, err := migrate(t, src, url, CopyOptions{Batch: 4})
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, report)
	}
	if !strings.Contains(report, "verified: 32 tables") {
		t.Fatalf("report:\n%s", report)
	}
	pg := openTarget(t, url)
	if got := storetest.Contents(t, pg, src.pop); got != src.contents {
		t.Fatalf("PostgreSQL reads back otherwise than SQLite: %s", firstDifference(src.contents, got))
	}

	ctx := context.Background()
	pid := src.pop.Projects[0].ID
	last, err := pg.LastEventSeq(ctx, pid)
	if err != nil || last == 0 {
		t.Fatalf("LastEventSeq = %d, %v", last, err)
	}
	lead := &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: pid, LeadID: "after-migration", Fullname: "After", Tags: []string{},
		Status: tiledesk.LeadActive, CreatedBy: "x"}
	if _, _, err := pg.CreateLead(ctx, lead, nil); err != nil {
		t.Fatal(err)
	}
	if got := storetest.WaitNumbered(t, pg, pid, last+1); got != last+1 {
		t.Fatalf("the first event after the migration is numbered %d, want %d", got, last+1)
	}
	replay := &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: pid, LeadID: "retry", Tags: []string{}, Status: tiledesk.LeadActive, CreatedBy: "x"}
	_, replayed, err := pg.CreateLead(ctx, replay, &tiledesk.Idempotency{Key: "lead-key-" + pid, Hash: "h1"})
	if err != nil || !replayed {
		t.Fatalf("an idempotency key of the SQLite file does not replay on PostgreSQL: replayed %v, %v", replayed, err)
	}

	// Run again: nothing is copied twice, and the copy verifies as long as nothing wrote since.
	report, err = migrate(t, src, url, CopyOptions{Batch: 4})
	if err == nil || !errors.Is(err, ErrDifferent) || !strings.Contains(report, "leads") {
		t.Fatalf("a second run after writes on PostgreSQL: %v\n%s", err, report)
	}
}

// TestMigrateResumes: a copy stopped after some batches, twice, resumes where it stopped and ends
// with the checksums of a copy that ran straight through.
func TestMigrateResumes(t *testing.T) {
	src := newSource(t, 14)
	straight := pgtest.FreshSchema(t)
	if _, err := migrate(t, src, straight, CopyOptions{Batch: 3}); err != nil {
		t.Fatal(err)
	}
	resumed := pgtest.FreshSchema(t)
	errStop := errors.New("stopped by the test")
	for _, stopAt := range []int{5, 9} {
		_, err := migrate(t, src, resumed, CopyOptions{Batch: 3, BeforeCommit: func(_ string, batch int) error {
			if batch == stopAt {
				return errStop
			}
			return nil
		}})
		if !errors.Is(err, errStop) || !strings.Contains(err.Error(), "run the same command again to resume") {
			t.Fatalf("stopped copy: %v", err)
		}
	}
	db, err := sql.Open("pgx", resumed)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var copied, done int
	if err := db.QueryRow(`SELECT SUM(rows), COUNT(*) FILTER (WHERE done) FROM migrate_progress`).Scan(&copied, &done); err != nil {
		t.Fatal(err)
	}
	if copied == 0 || done == 0 || done == len(tables) {
		t.Fatalf("after two stops: %d rows recorded, %d of %d tables done", copied, done, len(tables))
	}
	var log bytes.Buffer
	err = Run(context.Background(), Options{From: src.path, To: resumed, VerifyOnly: true, Copy: CopyOptions{Progress: &log}})
	if !errors.Is(err, ErrDifferent) || !strings.Contains(log.String(), "the copy is not complete") {
		t.Fatalf("--verify-only part way: %v\n%s", err, log.String())
	}
	if _, err := migrate(t, src, resumed, CopyOptions{Batch: 3}); err != nil {
		t.Fatal(err)
	}
	if got := storetest.Contents(t, openTarget(t, resumed), src.pop); got != src.contents {
		t.Fatalf("a resumed copy reads back otherwise: %s", firstDifference(src.contents, got))
	}
	a, b := checks(t, src.path, straight), checks(t, src.path, resumed)
	for i := range a {
		if a[i] != b[i] || !a[i].Equal() {
			t.Fatalf("%s: straight %+v, resumed %+v", a[i].Table, a[i], b[i])
		}
	}
}

func checks(t *testing.T, from, to string) []TableCheck {
	t.Helper()
	m, err := Open(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cs, err := m.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestVerifyReportsDifferences: a changed value, a missing row and an extra row are each reported
// on their table, with the key of the first row that differs, and fail the run.
func TestVerifyReportsDifferences(t *testing.T) {
	src := newSource(t, 3)
	url := pgtest.FreshSchema(t)
	if _, err := migrate(t, src, url, CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pid, leadID string
	if err := db.QueryRow(`SELECT id_project, id FROM leads ORDER BY id_project COLLATE "C", id COLLATE "C" LIMIT 1`).Scan(&pid, &leadID); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE leads SET attributes = jsonb_set(attributes, '{score}', '7') WHERE id = '` + leadID + `'`,
		`DELETE FROM messages WHERE ctid = (SELECT ctid FROM messages LIMIT 1)`,
		`INSERT INTO meta (key, value) VALUES ('zzz', 'extra')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	var report bytes.Buffer
	err = Run(context.Background(), Options{From: src.path, To: url, VerifyOnly: true, Report: &report})
	if !errors.Is(err, ErrDifferent) {
		t.Fatalf("verify after changes = %v\n%s", err, report.String())
	}
	lines := map[string]string{}
	for _, l := range strings.Split(report.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	for table, want := range map[string]string{
		"leads":    "DIFFERENT from (id_project=" + pid + ", id=" + leadID + ")",
		"messages": "DIFFERENT from (id_project=",
		"meta":     "DIFFERENT from (key=zzz)",
		"requests": "equal",
	} {
		if !strings.Contains(lines[table], want) {
			t.Errorf("%s: %q, want %q", table, lines[table], want)
		}
	}
}

// TestMigrateRefuses: a target holding other data, a target holding another file's copy, a second
// run at the same time, and a source at another schema version are refused, saying why.
func TestMigrateRefuses(t *testing.T) {
	ctx := context.Background()
	a, b := newSource(t, 1), newSource(t, 1)

	other := pgtest.FreshSchema(t)
	st := openTarget(t, other)
	if _, err := st.SetMetaIfAbsent(ctx, "jwt_secret", "its own"); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t, a, other, CopyOptions{}); err == nil || !strings.Contains(err.Error(), "already holds data that no migration from this file wrote (in meta)") {
		t.Fatalf("into a database with data: %v", err)
	}

	url := pgtest.FreshSchema(t)
	if _, err := migrate(t, a, url, CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t, b, url, CopyOptions{}); err == nil || !strings.Contains(err.Error(), "another SQLite file ("+a.path) {
		t.Fatalf("a second file into the same database: %v", err)
	}

	m, err := Open(ctx, a.path, url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := m.lockTarget(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Open(ctx, b.path, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Copy(ctx, CopyOptions{}); err == nil || !strings.Contains(err.Error(), "another tiledesk migrate") {
		t.Fatalf("a second run at the same time: %v", err)
	}
	m2.Close()
	conn.Close()
	m.Close()

	old, err := sql.Open("sqlite", b.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	if _, err := Open(ctx, b.path, url); err == nil || !strings.Contains(err.Error(), "run this version's server on it once") {
		t.Fatalf("an older source: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing.db"), url); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing source: %v", err)
	}
	if _, err := Open(ctx, a.path, a.path); err == nil || !strings.Contains(err.Error(), "not a PostgreSQL URL") {
		t.Fatalf("SQLite as target: %v", err)
	}
}

// TestCanonicalJSON: JSON written differently but equal in value encodes the same; different
// values do not.
func TestCanonicalJSON(t *testing.T) {
	same := [][2]string{
		{`{"b": 1.50, "a": [1e2, "x"], "n": null}`, `{"a":[100,"x"],"b":1.5,"n":null}`},
		{`{"k": 1, "k": 2}`, `{"k":2}`},
		{`"\u00e9"`, `"é"`},
		{`-0`, `0`},
	}
	for _, p := range same {
		a, err1 := canonicalJSON(p[0])
		b, err2 := canonicalJSON(p[1])
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s and %s: %s / %s (%v %v)", p[0], p[1], a, b, err1, err2)
		}
	}
	for _, p := range [][2]string{{`{"a":1}`, `{"a":"1"}`}, {`[1,2]`, `[2,1]`}, {`1.5`, `1.50001`}, {`{}`, `[]`}} {
		a, _ := canonicalJSON(p[0])
		b, _ := canonicalJSON(p[1])
		if bytes.Equal(a, b) {
			t.Errorf("%s and %s encode the same: %s", p[0], p[1], a)
		}
	}
	for _, v := range []any{int64(1), true} {
		if n, err := normalize(kindBool, v); err != nil || n != true {
			t.Errorf("normalize(bool, %v) = %v, %v", v, n, err)
		}
	}
	if _, err := normalize(kindBool, int64(2)); err == nil {
		t.Error("2 read as a boolean")
	}
	if _, err := normalize(kindJSON, "{nope"); err == nil {
		t.Error("invalid JSON accepted")
	}
}

// TestMigrateHoldsOffTargetTriggers: a trigger of PostgreSQL's own (here one that moves a project's
// version on every department written) does not fire for copied rows, whose derived state is
// copied with them, and fires again once the copy is done.
func TestMigrateHoldsOffTargetTriggers(t *testing.T) {
	src := newSource(t, 1)
	url := pgtest.FreshSchema(t)
	pg := openTarget(t, url)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE FUNCTION bump_project() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN UPDATE projects SET versions = versions + 1000 WHERE id = NEW.id_project; RETURN NULL; END $$;
		CREATE TRIGGER departments_bump AFTER INSERT ON departments FOR EACH ROW EXECUTE FUNCTION bump_project()`); err != nil {
		t.Fatal(err)
	}
	if report, err := migrate(t, src, url, CopyOptions{Batch: 2}); err != nil {
		t.Fatalf("the trigger fired for copied rows: %v\n%s", err, report)
	}
	pid := src.pop.Projects[0].ID
	var before, after int
	if err := db.QueryRow(`SELECT versions FROM projects WHERE id = $1`, pid).Scan(&before); err != nil {
		t.Fatal(err)
	}
	now := tiledesk.Now()
	if err := pg.CreateDepartment(context.Background(), &tiledesk.Department{ID: tiledesk.NewID(), ProjectID: pid, Name: "After",
		Routing: tiledesk.RoutingPooled, Status: tiledesk.DepartmentVisible, CreatedBy: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT versions FROM projects WHERE id = $1`, pid).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before+1000 {
		t.Fatalf("after the copy the trigger no longer fires: versions %d then %d", before, after)
	}
}
