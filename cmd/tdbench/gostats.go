package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// goStats are the Go runtime's running totals as the server's /metrics reports them (Prometheus'
// Go collector): bytes allocated since start and garbage collections completed, and the heap in
// use.
type goStats struct {
	allocBytes float64
	gcCycles   float64
	heapInuse  float64 // bytes in spans holding objects now (0 when not reported)
}

// goStatsReader returns a reader of url's /metrics that reports ok=false when the server has no
// such endpoint (the baseline) or it does not answer.
func goStatsReader(url string) func() (goStats, bool) {
	client := &http.Client{Timeout: 5 * time.Second}
	return func() (goStats, bool) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/metrics", nil)
		if err != nil {
			return goStats{}, false
		}
		resp, err := client.Do(req)
		if err != nil {
			return goStats{}, false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return goStats{}, false
		}
		var s goStats
		found := 0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			name, value, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue
			}
			var dst *float64
			switch name {
			case "go_memstats_alloc_bytes_total":
				dst = &s.allocBytes
			case "go_gc_duration_seconds_count":
				dst = &s.gcCycles
			case "go_memstats_heap_inuse_bytes":
				if v, err := strconv.ParseFloat(value, 64); err == nil {
					s.heapInuse = v
				}
				continue
			default:
				continue
			}
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				*dst = v
				found++
			}
		}
		return s, found == 2 && sc.Err() == nil
	}
}
