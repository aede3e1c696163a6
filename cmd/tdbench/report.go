package main

import (
	"fmt"
	"io"
	"strings"
)

// add records a result and prints its table row (the header first).
func (rep *report) add(out io.Writer, r result) {
	if len(rep.Results) == 0 {
		fmt.Fprintf(out, "\nengine %s, %d leads, %d conversations, %d messages, %s per scenario after %s warm-up, %s CPUs (%s), %s client\n", rep.Engine, rep.Leads,
			rep.Requests, rep.Messages, rep.Duration, rep.Warmup, rep.Machine["cpus"], rep.Machine["cpu"], rep.Client)
		fmt.Fprintf(out, "%-18s %5s %9s %8s %8s %8s %6s %9s %9s %8s %7s %5s %s\n", "scenario", "conc", "req/s", "p50 ms", "p90 ms",
			"p99 ms", "errors", "cpu s/1k", "load s/1k", "rss MB", "KB/req", "GC/s", "ratio")
	}
	rep.Results = append(rep.Results, r)
	ratio := ""
	if r.Baseline != "" {
		ratio = fmt.Sprintf("%.2f of %s (%.0f/s)", r.Ratio, r.Baseline, r.BaselineRPS)
	}
	errs := fmt.Sprint(r.Errors)
	if r.Errors > 0 {
		errs += " !!"
	}
	load := "" // none for the write baseline, whose loop runs in the load generator
	if r.LoadCPUPer1k > 0 {
		load = fmt.Sprintf("%.3f", r.LoadCPUPer1k)
	}
	alloc, gcs := "", ""
	if r.AllocKBPerReq > 0 {
		alloc, gcs = fmt.Sprintf("%.1f", r.AllocKBPerReq), fmt.Sprintf("%.1f", r.GCPerSec)
	}
	fmt.Fprintf(out, "%-18s %5d %9.0f %8.2f %8.2f %8.2f %6s %9.3f %9s %8.1f %7s %5s %s\n", r.Scenario, r.Concurrency, r.RPS, r.P50ms,
		r.P90ms, r.P99ms, errs, r.CPUPer1k, load, r.PeakRSSMB, alloc, gcs, ratio)
}

// verdict is a target checked against a result.
type verdict struct {
	Scenario string `json:"scenario"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// verdicts checks each target at the concurrency it is stated for.
func verdicts(results []result) []verdict {
	var out []verdict
	for _, s := range scenarios {
		if s.target == nil || s.pending != "" {
			continue
		}
		for _, r := range results {
			if r.Scenario != s.name || r.Concurrency != targetConcurrency {
				continue
			}
			t := s.target
			var want, got []string
			met := true
			if t.minRatio > 0 {
				want = append(want, fmt.Sprintf("≥ %.2f of %s", t.minRatio, r.Baseline))
				got = append(got, fmt.Sprintf("%.2f", r.Ratio))
				met = met && r.Ratio >= t.minRatio
			}
			if t.maxP99ms > 0 {
				want = append(want, fmt.Sprintf("p99 < %g ms", t.maxP99ms))
				p99 := fmt.Sprintf("p99 %.2f ms", r.P99ms)
				if r.Floor != "" {
					p99 += fmt.Sprintf(" (%s p99 %.2f ms)", r.Floor, r.FloorP99ms)
				}
				got = append(got, p99)
				met = met && r.P99ms < t.maxP99ms
			}
			if t.minRPS > 0 {
				want = append(want, fmt.Sprintf("≥ %g/s", t.minRPS))
				got = append(got, fmt.Sprintf("%.0f/s", r.RPS))
				met = met && r.RPS >= t.minRPS
			}
			out = append(out, verdict{Scenario: s.name, Source: t.source, Target: strings.Join(want, ", "),
				Measured: strings.Join(got, ", "), Met: met})
		}
	}
	return out
}

func printTargets(out io.Writer, rep *report) {
	if len(rep.Targets) == 0 {
		fmt.Fprintf(out, "\ntargets: none checked (they are stated for %d clients)\n", targetConcurrency)
		return
	}
	fmt.Fprintf(out, "\ntargets at %d clients:\n", targetConcurrency)
	for _, v := range rep.Targets {
		state := "MET   "
		if !v.Met {
			state = "MISSED"
		}
		fmt.Fprintf(out, "%s %-18s %-32s measured %s (%s)\n", state, v.Scenario, v.Target, v.Measured, v.Source)
	}
}
