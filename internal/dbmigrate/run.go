package dbmigrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/postgres"
)

// Options are a whole migration's: what to copy where, how, and where to say what happened.
type Options struct {
	From, To string
	// VerifyOnly compares both sides without copying anything.
	VerifyOnly bool
	Copy       CopyOptions
	// Report receives the verification's table (Copy.Progress the copy's progress).
	Report io.Writer
}

// ErrDifferent is returned when the verification found a table that differs.
var ErrDifferent = errors.New("the PostgreSQL database differs from the SQLite file")

// Run copies (unless VerifyOnly) and verifies.
func Run(ctx context.Context, opt Options) error {
	m, err := Open(ctx, opt.From, opt.To)
	if err != nil {
		return err
	}
	defer m.Close()
	log := opt.Copy.Progress
	if log == nil {
		log = io.Discard
	}
	now := opt.Copy.Now
	if now == nil {
		now = time.Now
	}
	if !opt.VerifyOnly {
		batch := opt.Copy.Batch
		if batch <= 0 {
			batch = DefaultBatch
		}
		fmt.Fprintf(log, "copying %s into %s, %d rows per transaction\n", opt.From, postgres.Redact(opt.To), batch)
		began := now()
		res, err := m.Copy(ctx, opt.Copy)
		if err != nil {
			return err
		}
		if !res.Finished.IsZero() {
			fmt.Fprintf(log, "the copy from this file finished at %s; verifying it\n", res.Finished.UTC().Format(time.RFC3339))
		} else {
			fmt.Fprintf(log, "copied %d rows in %s\n", res.Rows, now().Sub(began).Round(time.Millisecond))
		}
	}
	if opt.VerifyOnly {
		if left, err := m.tablesLeft(ctx); err != nil {
			return err
		} else if left > 0 {
			fmt.Fprintf(log, "the copy is not complete (%d tables left): tables not yet copied will differ; "+
				"run without --verify-only to finish it\n", left)
		}
	}
	fmt.Fprintln(log, "verifying: every row of every table, read on both sides in key order")
	checks, err := m.Verify(ctx)
	if err != nil {
		return err
	}
	report := opt.Report
	if report == nil {
		report = io.Discard
	}
	if !WriteReport(report, checks) {
		return fmt.Errorf("%w: see the tables marked DIFFERENT above. If a server ran on either database "+
			"after the copy, that explains it; otherwise start again into an empty database", ErrDifferent)
	}
	return nil
}
