package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// add records a result and prints its table row (the header first).
func (rep *report) add(out io.Writer, r result) {
	if len(rep.Results) == 0 {
		fmt.Fprintf(out, "\nengine %s, %d leads, %d conversations, %d messages, %s per scenario after %s warm-up, %s CPUs (%s), %s, %s client\n", rep.Engine, rep.Leads,
			rep.Requests, rep.Messages, rep.Duration, rep.Warmup, rep.Machine["cpus"], rep.Machine["cpu"], rep.placement(), rep.Client)
		if rep.Processes > 1 {
			fmt.Fprintf(out, "%d server processes on the one database, the clients spread over them: each scenario's row ×1 is the first process alone, its row ×%d all of them, whose CPU and peak RSS are summed over the processes\n",
				rep.Processes, rep.Processes)
		}
		fmt.Fprintf(out, "%-18s %5s %9s %8s %8s %8s %6s %9s %9s %8s %7s %5s %s\n", "scenario", "conc", "req/s", "p50 ms", "p90 ms",
			"p99 ms", "errors", "cpu s/1k", "load s/1k", "rss MB", "KB/req", "GC/s", "ratio")
	}
	rep.Results = append(rep.Results, r)
	ratio := ""
	if r.Baseline != "" {
		ratio = fmt.Sprintf("%.2f of %s (%.0f/s)", r.Ratio, r.Baseline, r.BaselineRPS)
	}
	if r.Processes > 1 {
		ratio = strings.TrimPrefix(ratio+"; ", "; ") + fmt.Sprintf("%.2f of one process (%.0f/s)", r.ProcessRatio, r.OneProcessRPS)
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
	fmt.Fprintf(out, "%-18s %5d %9.0f %8.2f %8.2f %8.2f %6s %9.3f %9s %8.1f %7s %5s %s\n", rowName(r), r.Concurrency, r.RPS, r.P50ms,
		r.P90ms, r.P99ms, errs, r.CPUPer1k, load, r.PeakRSSMB, alloc, gcs, ratio)
	if r.BaselineRow != "" {
		fmt.Fprintf(out, "%-18s %s\n", "", r.BaselineRow)
	}
	if r.PeakHeapMB > 0 {
		fmt.Fprintf(out, "%-18s the server's heap in use peaked at %.1f MB (sampled every %v)\n", "", r.PeakHeapMB, heapSampleEvery)
	}
}

// rowName is a result's scenario, with its number of processes in a run of several ("lead-create
// ×3"; their CPU and peak RSS are summed over the processes).
func rowName(r result) string {
	if r.Processes == 0 {
		return r.Scenario
	}
	return fmt.Sprintf("%s ×%d", r.Scenario, r.Processes)
}

// placement says where the server and the load generator ran.
func (rep *report) placement() string {
	if rep.ServerCPUs == "" {
		return "server and load generator sharing the CPUs"
	}
	return fmt.Sprintf("server on CPU %s, load generator on CPU %s", rep.ServerCPUs, rep.LoadCPUs)
}

// verdict is a target checked against a result.
type verdict struct {
	Scenario string `json:"scenario"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
	// Processes is set on the verdicts of several processes against one (minProcessRatio).
	Processes   int `json:"processes,omitempty"`
	Concurrency int `json:"concurrency,omitempty"`
}

// verdicts checks each target at the concurrency it is stated for.
func verdicts(results []result) []verdict {
	var out []verdict
	type targeted struct {
		name    string
		target  *target
		clients int
		beside  bool // a side load's, stated beside the scenario's targetConcurrency clients
	}
	var checks []targeted
	for _, s := range scenarios {
		if s.pending != "" {
			continue
		}
		if s.target != nil {
			clients := s.target.clients
			if clients == 0 {
				clients = targetConcurrency
			}
			checks = append(checks, targeted{s.name, s.target, clients, false})
		}
		if s.beside != nil && s.beside.target != nil {
			checks = append(checks, targeted{s.beside.name, s.beside.target, s.beside.clients, true})
		}
	}
	for _, s := range checks {
		for _, r := range results {
			if r.Scenario != s.name || r.Concurrency != s.clients || s.beside && r.BesideConcurrency != targetConcurrency {
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
			if !s.beside && s.clients != targetConcurrency {
				want = append(want, fmt.Sprintf("at %d clients", s.clients))
			}
			out = append(out, verdict{Scenario: s.name, Source: t.source, Target: strings.Join(want, ", "),
				Measured: strings.Join(got, ", "), Met: met})
		}
	}
	return out
}

func printTargets(out io.Writer, rep *report) {
	var stated, processes []verdict
	for _, v := range rep.Targets {
		if v.Processes > 1 {
			processes = append(processes, v)
		} else {
			stated = append(stated, v)
		}
	}
	if len(stated) == 0 {
		fmt.Fprintf(out, "\ntargets: none checked (they are stated for %d clients)\n", targetConcurrency)
	} else {
		fmt.Fprintf(out, "\ntargets at %d clients, unless they say:\n", targetConcurrency)
		printVerdicts(out, stated)
		if rep.ServerCPUs == "" {
			fmt.Fprintln(out, "placement: shared, where the two runtimes' threads are switched by the kernel and the tails are mostly that"+
				" (see the page floor's p99); docs/performance.md takes the lead reads' targets with --cpus split")
		}
	}
	if len(processes) > 0 {
		fmt.Fprintf(out, "\nseveral processes on one database, at every number of clients:\n")
		printVerdicts(out, processes)
	}
}

func printVerdicts(out io.Writer, vs []verdict) {
	for _, v := range vs {
		state := "MET   "
		if !v.Met {
			state = "MISSED"
		}
		fmt.Fprintf(out, "%s %-18s %-32s measured %s (%s)\n", state, v.Scenario, v.Target, v.Measured, v.Source)
	}
}

// markdownHeader is the header of the tables docs/performance.md holds.
const markdownHeader = "| scenario | clients | req/s | p50 ms | p90 ms | p99 ms | errors | server CPU s per 1k | " +
	"load generator CPU s per 1k | peak RSS MB | server KB allocated per request | GCs per s | " +
	"baseline req/s (same run, just before) | ratio |\n" +
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"

// writeMarkdown writes a run's results as a markdown table: the read baselines left out (each
// scenario names its own in its last columns), the page floor and the write baseline in italics,
// the write baseline's CPU, which is the loop's in tdbench, marked ¹.
func writeMarkdown(out io.Writer, rep *report) {
	io.WriteString(out, markdownHeader)
	for _, r := range rep.Results {
		name, cpu, load := rowName(r), fmt.Sprintf("%.3f", r.CPUPer1k), fmt.Sprintf("%.3f", r.LoadCPUPer1k)
		rss, alloc, gcs := fmt.Sprintf("%.1f", r.PeakRSSMB), fmt.Sprintf("%.1f", r.AllocKBPerReq), fmt.Sprintf("%.1f", r.GCPerSec)
		switch r.Scenario {
		case "baseline-read":
			continue
		case "floor-page":
			name, rss, alloc, gcs = "*page floor*", "", "", ""
		case "baseline-write":
			name, cpu, load, rss, alloc, gcs = "*bare durable insert loop*", cpu+"¹", "", "", "", ""
		}
		baseline, ratio := "", ""
		if r.Baseline != "" {
			kind := strings.TrimPrefix(r.Baseline, "baseline-")
			baseline, ratio = fmt.Sprintf("%.0f (%s)", r.BaselineRPS, kind), fmt.Sprintf("%.3f", r.Ratio)
		}
		if r.Processes > 1 {
			ratio = strings.TrimPrefix(ratio+"; ", "; ") + fmt.Sprintf("%.3f of one process", r.ProcessRatio)
		}
		fmt.Fprintf(out, "| %s | %d | %.0f | %.2f | %.2f | %.2f | %d | %s | %s | %s | %s | %s | %s | %s |\n", name, r.Concurrency,
			r.RPS, r.P50ms, r.P90ms, r.P99ms, r.Errors, cpu, load, rss, alloc, gcs, baseline, ratio)
	}
}

// printTables writes the markdown table of each run (a --json file) named: tdbench table RUN.json...
func printTables(out io.Writer, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("usage: tdbench table RUN.json [RUN.json...]")
	}
	for i, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var rep report
		if err := json.Unmarshal(raw, &rep); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if i > 0 {
			io.WriteString(out, "\n")
		}
		writeMarkdown(out, &rep)
	}
	return nil
}
