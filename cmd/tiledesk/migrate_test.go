package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/dbopen"
	"github.com/tiledesk-go/tiledesk/internal/pgtest"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// TestMigrateFlags: tiledesk migrate --help prints its usage; wrong settings fail naming the flag.
func TestMigrateFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--help"}, os.Getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Usage: tiledesk migrate", "-verify-only", "-batch int", "resumes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("migrate --help lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"--help"}, os.Getenv, &out, io.Discard); err != nil || !strings.Contains(out.String(), "tiledesk migrate --from") {
		t.Errorf("--help does not mention migrate: %v", err)
	}
	db := filepath.Join(t.TempDir(), "x.db")
	for args, want := range map[string]string{
		"--to postgres://h/db":                  "--from: the SQLite file to copy is required",
		"--from " + db:                          "--to: the PostgreSQL database to copy into is required",
		"--from " + db + " --to " + db:          "is not a PostgreSQL URL",
		"--from postgres://h/a --to postgres:/": "--from: give the SQLite file",
		"--from " + db + " --to postgres://h/x": "no such file",
		"--batch 0 --from a --to b":             "--batch 0",
		"--nope":                                "tiledesk migrate --help",
		"--from a --to b extra":                 `unexpected argument "extra"`,
	} {
		err := run(context.Background(), append([]string{"migrate"}, strings.Fields(args)...), os.Getenv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("migrate %s = %v, want %q", args, err, want)
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused migrate created the source file: %v", err)
	}
}

// TestMigrateInterruptedAndKilled runs the real binary: a copy stopped by Ctrl-C, then one killed
// with SIGKILL, each part way through, and a last run (in larger batches) that finishes and
// verifies.
func TestMigrateInterruptedAndKilled(t *testing.T) {
	url := pgtest.FreshSchema(t)
	from := filepath.Join(t.TempDir(), "tiledesk.db")
	st, err := dbopen.Open(context.Background(), from, nil)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Populate(t, st, 150)
	st.Close()
	target, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	copied := func() int64 {
		var n sql.NullInt64
		target.QueryRow(`SELECT SUM(rows) FROM migrate_progress`).Scan(&n) // no table yet: 0
		return n.Int64
	}
	args := []string{"migrate", "--from", from, "--to", url}
	for _, stop := range []struct {
		signal syscall.Signal
		said   string
	}{{syscall.SIGINT, "interrupted; every batch committed before is kept"}, {syscall.SIGKILL, ""}} {
		before := copied()
		cmd := exec.Command(os.Args[0], append(args, "--batch", "1")...) // slow enough to stop part way
		cmd.Env = append(os.Environ(), "TILEDESK_TEST_SERVE=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for copied() < before+100 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(stop.signal); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if err == nil || !strings.Contains(stderr.String(), stop.said) {
			t.Fatalf("after %v: exit %v, stderr:\n%s", stop.signal, err, stderr.String())
		}
		if copied() <= before {
			t.Fatalf("after %v: nothing was copied", stop.signal)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, os.Getenv, &stdout, &stderr); err != nil {
		t.Fatalf("the last run: %v\n%s\n%s", err, stderr.String(), stdout.String())
	}
	if !strings.Contains(stdout.String(), "verified: 32 tables") || !strings.Contains(stderr.String(), "by an earlier run") {
		t.Fatalf("the last run said:\n%s\n%s", stderr.String(), stdout.String())
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"migrate", "--from", from, "--to", url, "--verify-only"}, os.Getenv, &stdout, io.Discard); err != nil ||
		!strings.Contains(stdout.String(), "equal on both sides") {
		t.Fatalf("--verify-only: %v\n%s", err, stdout.String())
	}
}

// TestMigrateRefusesAServedFile: a file a running server holds is refused, saying so.
func TestMigrateRefusesAServedFile(t *testing.T) {
	url := pgtest.FreshSchema(t)
	from := filepath.Join(t.TempDir(), "served.db")
	startProcess(t, "--addr", "127.0.0.1:0", "--db", from)
	err := run(context.Background(), []string{"migrate", "--from", from, "--to", url}, os.Getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("migrate from a served file: %v", err)
	}
}
