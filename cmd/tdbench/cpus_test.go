package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{"0": {0}, "0-1": {0, 1}, "3,0-1": {0, 1, 3}, "1,1, 2": {1, 2}, "0-3,2": {0, 1, 2, 3}} {
		got, err := parseCPUList(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a", "-1", "2-1", "0,,1", "0-", "1024"} {
		if got, err := parseCPUList(in); err == nil {
			t.Errorf("parseCPUList(%q) = %v, want an error", in, got)
		}
	}
	if s := formatCPUList([]int{0, 2, 3}); s != "0,2,3" {
		t.Errorf("formatCPUList = %q", s)
	}
}

func TestSplitCPUs(t *testing.T) {
	cases := []struct {
		spec         string
		allowed      []int
		server, load []int
		note         bool
	}{
		{"split", []int{0, 1}, []int{0}, []int{1}, false},
		{"split", []int{0, 1, 2}, []int{0, 1}, []int{2}, false},
		{"split", []int{2, 5, 6, 7}, []int{2, 5}, []int{6, 7}, false},
		{"split", []int{0}, nil, nil, true},
		{"split", nil, nil, nil, true},
		{"shared", []int{0, 1}, nil, nil, false},
		{"1/0", []int{0, 1}, []int{1}, []int{0}, false},
		{"0-1/1", []int{0, 1}, []int{0, 1}, []int{1}, false},
	}
	for _, c := range cases {
		server, load, note, err := splitCPUs(c.spec, c.allowed)
		if err != nil || !slices.Equal(server, c.server) || !slices.Equal(load, c.load) || (note != "") != c.note {
			t.Errorf("splitCPUs(%q, %v) = %v, %v, %q, %v; want %v, %v, a note: %v", c.spec, c.allowed, server, load, note, err,
				c.server, c.load, c.note)
		}
	}
	for _, c := range []struct {
		spec    string
		allowed []int
		want    string
	}{
		{"half", []int{0, 1}, "neither"},
		{"0/2", []int{0, 1}, "CPU 2"},
		{"0/x", []int{0, 1}, "load generator"},
		{"x/0", []int{0, 1}, "server"},
		{"0/1", nil, "sched_setaffinity"},
	} {
		if _, _, _, err := splitCPUs(c.spec, c.allowed); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("splitCPUs(%q, %v): error %v, want one naming %q", c.spec, c.allowed, err, c.want)
		}
	}
}
