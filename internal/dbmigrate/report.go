package dbmigrate

import (
	"fmt"
	"io"
	"os"
	"time"
)

// reporter prints the copy's progress: a line per table when it ends, and while it is copied a
// line (table, rows done of total, rows per second, time left) at most every interval. On a
// terminal the running line is rewritten in place.
type reporter struct {
	w       io.Writer
	every   time.Duration
	now     func() time.Time
	inPlace bool

	table     string
	total     int64
	fromRows  int64 // done before this run
	started   time.Time
	lastPrint time.Time
	pending   bool // a line is shown in place and not yet ended
}

func newReporter(w io.Writer, every time.Duration, now func() time.Time) *reporter {
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	r := &reporter{w: w, every: every, now: now}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			r.inPlace = true
		}
	}
	return r
}

func (r *reporter) start(table string, done, total int64) {
	r.table, r.total, r.fromRows = table, total, done
	r.started = r.now()
	r.lastPrint = r.started
}

// advance shows the progress if the last line is older than the interval.
func (r *reporter) advance(done int64) {
	if r.w == nil {
		return
	}
	now := r.now()
	if now.Sub(r.lastPrint) < r.every {
		return
	}
	r.lastPrint = now
	line := fmt.Sprintf("%s: %d/%d rows (%d%%)", r.table, done, r.total, percent(done, r.total))
	elapsed := now.Sub(r.started)
	if copied := done - r.fromRows; copied > 0 && elapsed > 0 {
		rate := float64(copied) / elapsed.Seconds()
		eta := time.Duration(float64(max(r.total-done, 0)) / rate * float64(time.Second))
		line += fmt.Sprintf(", %.0f rows/s, ETA %s", rate, eta.Round(time.Second))
	}
	r.show(line)
}

// finish ends the table's line.
func (r *reporter) finish(done int64) {
	if r.w == nil {
		return
	}
	elapsed := r.now().Sub(r.started)
	line := fmt.Sprintf("%s: %d rows copied in %s", r.table, done, elapsed.Round(time.Millisecond))
	if r.fromRows > 0 {
		line = fmt.Sprintf("%s: %d rows copied (%d of them by an earlier run) in %s", r.table, done, r.fromRows,
			elapsed.Round(time.Millisecond))
	}
	r.show(line)
	r.end()
}

// interrupted ends a line left in place, so that the error that follows starts a line of its own.
func (r *reporter) interrupted() { r.end() }

func (r *reporter) show(line string) {
	if r.inPlace {
		fmt.Fprintf(r.w, "\r%s\x1b[K", line)
		r.pending = true
		return
	}
	fmt.Fprintln(r.w, line)
}

func (r *reporter) end() {
	if r.pending {
		fmt.Fprintln(r.w)
		r.pending = false
	}
}

func percent(done, total int64) int64 {
	if total <= 0 {
		return 100
	}
	return min(100, done*100/total)
}
