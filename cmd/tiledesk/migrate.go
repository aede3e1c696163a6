package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tiledesk-go/tiledesk/internal/dbmigrate"
)

// runMigrate is `tiledesk migrate`: it copies a stopped server's SQLite file into PostgreSQL and
// verifies the copy (docs/migrate.md).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tiledesk migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "the SQLite file the server ran on (a path or sqlite:PATH); no server may be running on it")
	to := fs.String("to", "", "the PostgreSQL database to copy into (postgres://user:password@host/db); empty, or holding an interrupted copy of the same file")
	batch := fs.Int("batch", dbmigrate.DefaultBatch, "rows copied per transaction (1-100000)")
	verifyOnly := fs.Bool("verify-only", false, "copy nothing: compare the row counts and checksums of every table on both sides")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		printMigrateUsage(fs, stdout)
		return nil
	} else if err != nil {
		return fmt.Errorf("migrate: %w (tiledesk migrate --help lists the flags)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected argument %q (tiledesk migrate --help lists the flags)", fs.Arg(0))
	}
	if *batch < 1 || *batch > 100_000 {
		return fmt.Errorf("migrate: --batch %d: give 1 to 100000 rows per transaction", *batch)
	}
	err := dbmigrate.Run(ctx, dbmigrate.Options{From: *from, To: *to, VerifyOnly: *verifyOnly, Report: stdout,
		Copy: dbmigrate.CopyOptions{Batch: *batch, Progress: stderr}})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func printMigrateUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: tiledesk migrate --from FILE --to postgres://... [--batch 5000] [--verify-only]

Copies every table of a tiledesk SQLite file into PostgreSQL, then compares both sides table by
table (row counts and a SHA-256 over every row). Stop the server first. An interrupted run
resumes where it stopped when run again with the same flags. The exit status is non-zero when
anything differs. docs/migrate.md has the whole procedure.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
