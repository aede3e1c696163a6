package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// readCSV parses a ';'-separated export into a map per row, keyed by the header's names.
func readCSV(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%v in %.300s", err, body)
	}
	var out []map[string]string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, name := range rows[0] {
			m[name] = row[i]
		}
		out = append(out, m)
	}
	return out
}

// jsonOf decodes a JSON cell ("" as no object).
func jsonOf(t *testing.T, cell string) map[string]any {
	t.Helper()
	if cell == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(cell), &m); err != nil {
		t.Fatalf("cell %q is not a JSON object: %v", cell, err)
	}
	return m
}

// TestCSVExportsKeepAttributes: the lead, conversation and message exports carry what clients
// wrote in attributes (and a lead's properties, a message's metadata), each as one JSON cell, so
// that an export loses nothing written.
func TestCSVExportsKeepAttributes(t *testing.T) {
	e := newChatEnv(t)
	lead := e.do("POST", "/"+e.pid+"/leads", `{"fullname":"Ann","attributes":{"plan":"gold","age":42,"tags":["a","b"]}}`,
		e.owner.jwt()).want(t, 200).json(t)
	e.do("PATCH", "/"+e.pid+"/leads/"+lead["_id"].(string)+"/properties", `{"score":7}`, e.owner.jwt()).want(t, 200)
	rid := e.rid("csv")
	e.post(rid, `{"text":"hello","attributes":{"source":"web","nested":{"x":1}},"metadata":{"src":"https://x.example/a.png","width":10}}`,
		e.owner.jwt()).want(t, 200)
	e.do("PATCH", "/"+e.pid+"/requests/"+rid+"/attributes", `{"order":"A-17"}`, e.owner.jwt()).want(t, 200)

	leads := readCSV(t, e.do("GET", "/"+e.pid+"/leads/csv?full_text=ann", nil, e.owner.jwt()).body)
	if len(leads) != 1 || !reflect.DeepEqual(jsonOf(t, leads[0]["attributes"]), map[string]any{"plan": "gold", "age": 42.0, "tags": []any{"a", "b"}}) ||
		!reflect.DeepEqual(jsonOf(t, leads[0]["properties"]), map[string]any{"score": 7.0}) {
		t.Fatalf("leads export = %v", leads)
	}
	var conv map[string]string
	for _, row := range readCSV(t, e.do("GET", "/"+e.pid+"/requests/csv", nil, e.owner.jwt()).body) {
		if row["request_id"] == rid {
			conv = row
		}
	}
	if attrs := jsonOf(t, conv["attributes"]); attrs["order"] != "A-17" {
		t.Fatalf("conversations export row = %v", conv)
	}
	msgs := readCSV(t, e.do("GET", "/"+e.pid+"/requests/"+rid+"/messages/csv", nil, e.owner.jwt()).body)
	if len(msgs) != 1 || !reflect.DeepEqual(jsonOf(t, msgs[0]["attributes"]), map[string]any{"source": "web", "nested": map[string]any{"x": 1.0}}) ||
		jsonOf(t, msgs[0]["metadata"])["src"] != "https://x.example/a.png" {
		t.Fatalf("messages export = %v", msgs)
	}
}

// TestCSVExportOutlivesWriteTimeout: an export longer than the server's write timeout is not cut
// by it (each batch has a write deadline of its own), even while its client pauses.
func TestCSVExportOutlivesWriteTimeout(t *testing.T) {
	e := newLeadsEnv(t)
	leads := seed.Leads(e.pid, e.owner.id, 0, 2000, tiledesk.Now().Add(-time.Hour))
	for _, l := range leads {
		l.Note = strings.Repeat("n", 5000)
	}
	if err := e.engine.SeedLeads(context.Background(), leads); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(e.srv)
	hs.Config.WriteTimeout = 300 * time.Millisecond
	hs.Start()
	defer hs.Close()
	req, _ := http.NewRequest("GET", hs.URL+"/"+e.pid+"/leads/csv", nil)
	req.Header.Set("Authorization", e.agent.token)
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(res.Body, head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the server's writes block meanwhile: 10 MB is more than the sockets hold
	rest, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("the export was cut after %d bytes: %v", len(head)+len(rest), err)
	}
	body := append(head, rest...)
	if rows := readCSV(t, body); len(rows) != 2000 {
		t.Fatalf("the export holds %d leads, want 2000", len(rows))
	}
}

// TestCSVBatchesBoundedInBytes: an export of large leads reads a few at a time, not 500.
func TestCSVBatchesBoundedInBytes(t *testing.T) {
	e, rec := recordedLeadsEnv(t)
	leads := seed.Leads(e.pid, e.owner.id, 0, 100, tiledesk.Now().Add(-time.Hour))
	for _, l := range leads {
		l.Note = strings.Repeat("n", 300<<10)
	}
	if err := e.engine.SeedLeads(context.Background(), leads); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	r := e.do("GET", "/"+e.pid+"/leads/csv", nil, e.agent.jwt())
	if rows := readCSV(t, r.body); len(rows) != 100 {
		t.Fatalf("%d leads exported, want 100", len(rows))
	}
	_, limits := rec.reset()
	if len(limits) < 2 || limits[0] > views.MaxReadChunk {
		t.Fatalf("the export read %v leads at a time", limits)
	}
	for _, n := range limits[1:] {
		if n*300<<10 > 2*csvBatchBytes {
			t.Fatalf("the export read %v leads at a time: batches of %d leads of 300 KB", limits, n)
		}
	}
}

// TestCSVExportHoldsNoPlaceWhileWriting: an export whose client does not read holds no place at the
// read gate: with one place, other reads still answer.
func TestCSVExportHoldsNoPlaceWhileWriting(t *testing.T) {
	e := newLeadsEnvWith(t, func(c *Config) { c.MaxActiveReads = 1 })
	leads := seed.Leads(e.pid, e.owner.id, 0, 3000, tiledesk.Now().Add(-time.Hour))
	for _, l := range leads {
		l.Note = strings.Repeat("n", 5000)
	}
	if err := e.engine.SeedLeads(context.Background(), leads); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.http.URL+"/"+e.pid+"/leads/csv", nil)
	req.Header.Set("Authorization", e.agent.token)
	res, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close() // never read: the server's writes block
	time.Sleep(200 * time.Millisecond)
	done := make(chan int, 1)
	go func() {
		status, _, _ := e.send("GET", "/"+e.pid+"/leads?limit=1", "", e.agent.jwt())
		done <- status
	}()
	select {
	case status := <-done:
		if status != 200 {
			t.Fatalf("a list beside a stalled export answered %d", status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a list waited behind an export whose client does not read")
	}
}
